"""Reports read from the ledger: incident metrics (`metrics`, rendered by `render`) and the
post-incident report of one incident (`postmortem`)."""
