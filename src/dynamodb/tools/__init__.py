"""Programs on top of the library: the demo and the command line."""
