"""Login throttling, session limits, the authentication log and the security screens of the システム管理者."""
