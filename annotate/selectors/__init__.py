"""Every read of the platform, one module per area; functions named <entity>_<what>.

Object lookups take the requesting user and raise NotFoundError when the object does not exist
*or* the user is not a member of its project, so the API answers 404 in both cases.
"""
