"""The tamper-evident record: a hash-chained, server-signed audit log.

:mod:`skypact.audit.model` seals and verifies records; storage keeps them.
"""
