"""Operations: Prometheus metrics (`metrics`, `collector`), structured logs with a
request id (`logs`), and the multiprocess metrics directory (`procdir`)."""
