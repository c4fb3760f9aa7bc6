"""Browser pages: thin views that render templates; every piece of data comes from the REST API."""
