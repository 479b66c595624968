"""api: create jobs (Postgres row + Redis queue entry) and read them back."""
