"""The message a customer receives: template tokens and personalisation (`render`) and
the email built from it (`email`: subject, preheader, plain text + HTML). Used by
campaigns (validation, previews, test sends), delivery (every message sent) and the
AI assistant (drafts it checks), so none of those imports another through it."""
