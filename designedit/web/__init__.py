"""What the HTTP servers (`dedit serve`, `dedit studio`) share: the token, origin and body checks, and binding."""
