"""Presenting answers: Block Kit for Slack, plain text for terminals and notifications."""
