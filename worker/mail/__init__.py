"""Mail: parsing, sources of messages (IMAP, Maildir, files) and noise detection."""
