"""Sign-in: users and roles, server-side sessions, the audit trail.

- `users`: who may enter (allowed domains, invites), roles, the first user is admin;
- `sessions`: opaque cookie tokens stored hashed, idle and absolute expiry, revoke;
- `audit`: the append-only trail of who did what.
"""
