"""Alert channels: where SLA warnings, breaches, reminders and escalations go."""
