"""Every write of the platform, one module per entity; functions named <entity>_<action>."""
