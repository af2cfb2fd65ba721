"""Stand-in for `plyfile` (imported by gsply_helpers, which the goldens never call)."""


class PlyData:  # noqa: D101
    pass


class PlyElement:  # noqa: D101
    pass
