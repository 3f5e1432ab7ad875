"""Workspace resources a project expects before its script runs: compute targets and datastores
declared in `amlocal.yaml`, made on the command line, or found as datastore folders."""
