"""The `qualtrace` command: one subcommand per pipeline stage, one error policy."""
