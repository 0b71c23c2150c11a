"""E-mail: written to the outbox in the transaction of the change that causes it (outbox),
sent by a job on the task queue (sending, jobs), checked by the admin (operations, queries).

    from afest.mail import outbox
    outbox.enqueue(session, template="test_message", to=user, context={...}, event_key="...")
"""
