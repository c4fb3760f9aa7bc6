"""The Django side of the platform: projects, clips, frames, boxes, generations and their APIs."""
