"""Kept only for delivery jobs already queued in Redis: RQ stores a job's function as
the dotted string "mini_crm.core.campaigns.delivery.deliver_batch", and a worker of
this version must still import it. The send pipeline lives in `mini_crm.core.delivery`
(new jobs name `mini_crm.core.delivery.job.deliver_batch`); nothing else imports this
module, and it can go once no queue holds a job enqueued before the move.
"""

from mini_crm.core.delivery.job import deliver_batch

__all__ = ["deliver_batch"]
