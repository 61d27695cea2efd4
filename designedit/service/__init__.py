"""`dedit serve`: render jobs over HTTP, one loaded model, results kept on disk."""
