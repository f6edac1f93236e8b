"""Talking to delivery vendors: request/receipt signatures (`signing`), vendor clients
(`vendors`: the simulator or a webhook over HTTP, SMTP email) and the receipt buffer and
batcher (`receipts`). The campaign workers in `mini_crm.core.campaigns` use these."""
