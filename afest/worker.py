"""The task queue's consumer: every domain's jobs, imported so that the consumer knows them.

flask --app afest afest worker        (or: huey_consumer afest.worker.huey)
"""

from afest.accounts import jobs as accounts_jobs
from afest.core.jobs import huey
from afest.dashboards import jobs as dashboards_jobs
from afest.mail import jobs as mail_jobs
from afest.proof import claims as proof_claims
from afest.proof import jobs as proof_jobs
from afest.todo import jobs as todo_jobs

__all__ = [
    "accounts_jobs",
    "dashboards_jobs",
    "huey",
    "mail_jobs",
    "proof_claims",
    "proof_jobs",
    "todo_jobs",
]
