"""`edge-runtime bench`: figures for overhead, overload scheduling, lanes and memory, printed side by side."""
