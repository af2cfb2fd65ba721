"""Talking to DA3 services (standard library only, no Blender): job protocol v1 client, jobs, local backend."""
