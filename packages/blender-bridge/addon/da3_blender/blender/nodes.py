"""The Geometry Nodes groups that display imported points and Gaussians.

``DA3 Points`` (on the points mesh) — inputs:

- ``Conf Percentile`` (0–100): hides points whose confidence rank (attribute ``conf_rank``, see
  :func:`~da3_blender.readers.geometry.confidence_rank`) is below it — the reference's
  ``conf_thresh_percentile``, live;
- ``Point Size`` (source pixels): each point is drawn as a sphere whose diameter is this many
  source-image pixels at its depth (``radius = 0.5 · size · da3_footprint``, with
  ``da3_footprint`` the world size of one pixel there), so surfaces stay closed at any distance;
- ``View`` (−1 = all): shows only the points of one view (attribute ``view``).

``DA3 Gaussians`` — inputs ``Point Size`` (× the largest of ``exp(scale_0..2)``) and
``Min Opacity`` (hides Gaussians with ``sigmoid(opacity)`` below it).

Both turn the mesh's vertices into a point cloud (Mesh to Points), copy ``color`` to
``da3_color`` (Cycles 3.x does not read a point-cloud attribute named ``color``) and set a material
reading it, so Cycles shows coloured points (Workbench and Eevee draw them as spheres); the mesh's
attributes stay on the points for other add-ons.
"""

import bpy

from .compat import enabled_output, new_group_socket

POINTS_GROUP = "DA3 Points"
GAUSSIANS_GROUP = "DA3 Gaussians"
MATERIAL = "DA3 Point Colour"
#: The colour attribute the material reads (a copy of ``color`` made on the point cloud).
RENDER_COLOR = "da3_color"


def point_material():
    """The material of points and Gaussians: base colour and emission from the ``color`` attribute."""
    mat = bpy.data.materials.get(MATERIAL)
    if mat is not None:
        return mat
    mat = bpy.data.materials.new(MATERIAL)
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = next(n for n in nodes if n.type == "BSDF_PRINCIPLED")
    attr = nodes.new("ShaderNodeAttribute")
    attr.attribute_name = RENDER_COLOR
    links.new(attr.outputs["Color"], bsdf.inputs["Base Color"])
    emission = bsdf.inputs.get("Emission Color") or bsdf.inputs.get("Emission")
    if emission is not None:
        links.new(attr.outputs["Color"], emission)
        strength = bsdf.inputs.get("Emission Strength")
        if strength is not None:
            strength.default_value = 1.0
    mat.diffuse_color = (0.8, 0.8, 0.8, 1.0)
    return mat


class _Builder:
    """Adds and links nodes of one new Geometry Nodes group, left to right."""
    def __init__(self, name):
        """Creates the group ``name``."""
        self.tree = bpy.data.node_groups.new(name, "GeometryNodeTree")
        self.nodes, self.links = self.tree.nodes, self.tree.links
        self.x = 0

    def node(self, kind, **props):
        """A new node of type ``kind`` with ``props`` set."""
        n = self.nodes.new(kind)
        for k, v in props.items():
            setattr(n, k, v)
        n.location = (self.x, 0)
        self.x += 180
        return n

    def attribute(self, name, data_type="FLOAT"):
        """The output of a Named Attribute node reading ``name`` as ``data_type``."""
        n = self.node("GeometryNodeInputNamedAttribute", data_type=data_type)
        n.inputs["Name"].default_value = name
        return enabled_output(n, "Attribute")

    def math(self, op, a, b=None, c=None):
        """A Math node ``op`` of sockets or constants; returns its output."""
        n = self.node("ShaderNodeMath", operation=op)
        for i, v in enumerate((a, b, c)):
            if v is None:
                continue
            if isinstance(v, (int, float)):
                n.inputs[i].default_value = float(v)
            else:
                self.links.new(v, n.inputs[i])
        return n.outputs[0]

    def link(self, a, b):
        """Links output ``a`` to input ``b``."""
        self.links.new(a, b)


def _finish(b, geometry, drop, radius):
    """Delete Geometry(drop) → Mesh to Points(radius) → Store ``da3_color`` → Set Material → output."""
    delete = b.node("GeometryNodeDeleteGeometry", domain="POINT")
    b.link(geometry, delete.inputs["Geometry"])
    b.link(drop, delete.inputs["Selection"])
    to_points = b.node("GeometryNodeMeshToPoints")
    b.link(delete.outputs[0], to_points.inputs["Mesh"])
    b.link(radius, to_points.inputs["Radius"])
    store = b.node("GeometryNodeStoreNamedAttribute", data_type="FLOAT_COLOR", domain="POINT")
    store.inputs["Name"].default_value = RENDER_COLOR
    b.link(to_points.outputs[0], store.inputs["Geometry"])
    b.link(b.attribute("color", "FLOAT_COLOR"), next(s for s in store.inputs if s.name == "Value" and s.enabled))
    material = b.node("GeometryNodeSetMaterial")
    material.inputs["Material"].default_value = point_material()
    b.link(store.outputs[0], material.inputs["Geometry"])
    out = b.node("NodeGroupOutput")
    b.link(material.outputs[0], out.inputs[0])


def _inputs(b, specs):
    """Creates the group's Geometry input/output and ``specs`` = ``[(name, type, default, min, max)]``;
    returns (group input node, {name: interface socket})."""
    new_group_socket(b.tree, "Geometry", "INPUT", "NodeSocketGeometry")
    new_group_socket(b.tree, "Geometry", "OUTPUT", "NodeSocketGeometry")
    sockets = {}
    for name, kind, default, lo, hi in specs:
        s = new_group_socket(b.tree, name, "INPUT", kind)
        s.default_value = default
        s.min_value, s.max_value = lo, hi
        sockets[name] = s
    gi = b.node("NodeGroupInput")
    return gi, sockets


def points_group():
    """The ``DA3 Points`` node group (created once per file). Returns ``(tree, {input name: socket})``."""
    tree = bpy.data.node_groups.get(POINTS_GROUP)
    if tree is None:
        b = _Builder(POINTS_GROUP)
        gi, _ = _inputs(
            b,
            [
                ("Conf Percentile", "NodeSocketFloat", 40.0, 0.0, 100.0),
                ("Point Size", "NodeSocketFloat", 1.0, 0.0, 1000.0),
                ("View", "NodeSocketInt", -1, -1, 100000),
            ],
        )
        drop_conf = b.math("LESS_THAN", b.attribute("conf_rank"), gi.outputs["Conf Percentile"])
        one_view = b.math("GREATER_THAN", gi.outputs["View"], -0.5)
        same = b.math("COMPARE", b.attribute("view"), gi.outputs["View"], 0.25)
        drop_view = b.math("MULTIPLY", one_view, b.math("SUBTRACT", 1.0, same))
        drop = b.math("MAXIMUM", drop_conf, drop_view)
        radius = b.math("MULTIPLY", b.math("MULTIPLY", b.attribute("da3_footprint"), gi.outputs["Point Size"]), 0.5)
        _finish(b, gi.outputs["Geometry"], drop, radius)
        tree = b.tree
    return tree, group_inputs(tree)


def gaussians_group():
    """The ``DA3 Gaussians`` node group. Returns ``(tree, {input name: socket})``."""
    tree = bpy.data.node_groups.get(GAUSSIANS_GROUP)
    if tree is None:
        b = _Builder(GAUSSIANS_GROUP)
        gi, _ = _inputs(b, [("Point Size", "NodeSocketFloat", 1.0, 0.0, 1000.0), ("Min Opacity", "NodeSocketFloat", 0.05, 0.0, 1.0)])
        biggest = b.math("MAXIMUM", b.math("MAXIMUM", b.attribute("scale_0"), b.attribute("scale_1")), b.attribute("scale_2"))
        radius = b.math("MULTIPLY", b.math("EXPONENT", biggest), gi.outputs["Point Size"])
        opacity = b.math("DIVIDE", 1.0, b.math("ADD", 1.0, b.math("EXPONENT", b.math("MULTIPLY", b.attribute("opacity"), -1.0))))
        drop = b.math("LESS_THAN", opacity, gi.outputs["Min Opacity"])
        _finish(b, gi.outputs["Geometry"], drop, radius)
        tree = b.tree
    return tree, group_inputs(tree)


def group_inputs(tree):
    """``{name: interface socket}`` of a group's inputs (3.x ``tree.inputs`` / 4.x ``tree.interface``)."""
    if hasattr(tree, "interface"):
        return {s.name: s for s in tree.interface.items_tree if getattr(s, "in_out", None) == "INPUT"}
    return {s.name: s for s in tree.inputs}


def add_modifier(obj, tree, values):
    """Adds a Geometry Nodes modifier running ``tree`` with input ``values`` (``{name: value}``)."""
    mod = obj.modifiers.new(tree.name, "NODES")
    mod.node_group = tree
    sockets = group_inputs(tree)
    for name, value in values.items():
        mod[sockets[name].identifier] = value
    return mod


def set_modifier_input(obj, name, value, group=POINTS_GROUP):
    """Sets one input of the object's DA3 modifier (e.g. ``"Conf Percentile"``) and re-evaluates."""
    for mod in obj.modifiers:
        if mod.type == "NODES" and mod.node_group is not None and mod.node_group.name.startswith(group):
            mod[group_inputs(mod.node_group)[name].identifier] = value
            obj.update_tag()
            return mod
    raise KeyError("%s has no %s modifier" % (obj.name, group))
