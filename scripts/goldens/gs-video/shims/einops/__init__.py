"""A minimal stand-in for `einops` (not in Debian): rearrange / repeat / reduce / einsum for the
patterns the reference's trajectory, renderer and layout code use. Pure index bookkeeping —
reshape, permute, expand, sum, torch.einsum — no maths of its own. Unsupported patterns raise."""
import string

import torch

__all__ = ["rearrange", "repeat", "reduce", "einsum"]


def _parse(side):
    """'b (h w) ... ()' -> [['b'], ['h', 'w'], ['...'], []]"""
    groups, cur = [], None
    for tok in side.replace("(", " ( ").replace(")", " ) ").split():
        if tok == "(":
            cur = []
        elif tok == ")":
            groups.append(cur)
            cur = None
        elif cur is not None:
            cur.append(tok)
        else:
            groups.append([tok])
    return groups


def _axes(x, left, sizes):
    """Elementary axis names and sizes of x for the left-hand groups ('...' keeps its dims)."""
    n_ell = x.ndim - (len(left) - 1) if ["..."] in left else 0
    if ["..."] not in left and len(left) != x.ndim:
        raise ValueError(f"einops shim: {len(left)} groups for a {x.ndim}-d tensor")
    names, dims, d = [], [], 0
    known = dict(sizes)
    for g in left:
        if g == ["..."]:
            names.append("...")
            dims.append(tuple(x.shape[d : d + n_ell]))
            d += n_ell
            continue
        size = x.shape[d]
        d += 1
        unknown = [a for a in g if a not in known]
        prod = 1
        for a in g:
            if a in known:
                prod *= known[a]
        if len(unknown) > 1:
            raise ValueError(f"einops shim: cannot split {g}")
        if unknown:
            known[unknown[0]] = size // prod
        for a in g:
            names.append(a)
            dims.append((known[a],))
    return names, dims, known


def _flat(dims):
    out = []
    for t in dims:
        out.extend(t)
    return out


def rearrange(x, pattern, **sizes):
    l, r = pattern.split("->")
    left, right = _parse(l), _parse(r)
    names, dims, known = _axes(x, left, sizes)
    x = x.reshape(_flat(dims))
    # positions of each elementary axis in the flattened tensor
    pos, p = {}, 0
    for n, t in zip(names, dims):
        pos[n] = list(range(p, p + len(t)))
        p += len(t)
    order, shape = [], []
    for g in right:
        if g == ["..."]:
            order += pos["..."]
            shape += list(dims[names.index("...")])
            continue
        size = 1
        for a in g:
            order += pos[a]
            size *= known[a]
        shape.append(size)
    if sorted(order) != list(range(p)):
        raise ValueError(f"einops shim: rearrange '{pattern}' drops or repeats axes")
    return x.permute(order).reshape(shape)


def repeat(x, pattern, **sizes):
    l, r = pattern.split("->")
    left, right = _parse(l), _parse(r)
    names, dims, known = _axes(x, left, sizes)
    for g in right:
        if len(g) != 1 and g != ["..."]:
            raise ValueError(f"einops shim: repeat '{pattern}' with groups")
    new = [g[0] for g in right if g[0] not in names]
    # put the kept axes in right-hand order, insert the new ones as size 1, then expand
    kept = [g[0] for g in right if g[0] in names]
    y = rearrange(x, f"{l} -> {' '.join(kept)}", **sizes)
    shape, target, i = [], [], 0
    for g in right:
        a = g[0]
        if a in new:
            shape.append(1)
            target.append(sizes[a])
        elif a == "...":
            ell = dims[names.index("...")]
            shape += list(ell)
            target += list(ell)
        else:
            shape.append(known[a])
            target.append(known[a])
    return y.reshape(shape).expand(target).contiguous()


def reduce(x, pattern, reduction):
    if reduction != "sum":
        raise ValueError("einops shim: only sum")
    l, r = pattern.split("->")
    left, right = _parse(l), _parse(r)
    names, dims, _ = _axes(x, left, {})
    keep = [g[0] for g in right]
    drop, p = [], 0
    for n, t in zip(names, dims):
        if n not in keep:
            drop += list(range(p, p + len(t)))
        p += len(t)
    y = x.sum(dim=drop)
    return rearrange(y, f"{' '.join(k for k in names if k in keep)} -> {r}")


def einsum(*args):
    *tensors, pattern = args
    l, r = pattern.split("->")
    letters = iter(string.ascii_letters)
    table = {}

    def conv(side):
        out = ""
        for tok in side.split():
            if tok == "...":
                out += "..."
                continue
            if tok not in table:
                table[tok] = next(letters)
            out += table[tok]
        return out

    ins = ",".join(conv(s) for s in l.split(","))
    return torch.einsum(f"{ins}->{conv(r)}", *tensors)
