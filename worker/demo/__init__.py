"""The demo: sample mails and a scripted run on embedded defaults."""
