"""Development only: claimdesk's `runserver`, listed before staticfiles to replace its own."""
