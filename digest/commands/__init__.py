"""One module per command-line verb; each has NAME, HELP, add_arguments and run."""
