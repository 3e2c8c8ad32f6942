/* The walks over every node of every resource, in C: the canonical walk of parity.normalize.canonical
 * (_walk, _plain, _plain_str, _policy) and parity.redact's secret-keyed redaction (at the end).
 *
 * Why C: the walk visits every node of every resource, and in CPython it cost about 2.5x the orjson parse
 * of the same data, the largest single step of a first comparison (docs/benchmarks.md). No library does
 * this transformation: orjson parses and writes but does not rewrite, and a compiled copy of the Python
 * (mypyc) gained a quarter. This file is a line-by-line port of the Python walk, which stays the
 * reference: tests/test_cwalk.py runs both on generated values and rule tries and requires the same
 * output, key order and errors; PARITY_PURE_PYTHON=1 turns this module off.
 *
 * What stays in Python, called from here: json_in_text (only for strings starting with '{', '[' or '%'),
 * orjson.dumps for the sort key of sets and unordered lists, and the NestingError class; configure() sets
 * them once. Only exact dict, list and str are walked, as `type(x) is dict` in the Python; anything else
 * is kept as it is. Copy on write: a dict or list none of whose entries changed is returned itself, not
 * copied (the Python walk builds an equal copy), and the input is never modified.
 */
#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE /* memmem */
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *nesting_error;   /* the NestingError class */
static PyObject *json_in_text;    /* parity.model.json_in_text */
static PyObject *dumps;           /* orjson.dumps: the sort key of sets and unordered lists */
static PyObject *dumps_kwnames;   /* ("option",) */
static PyObject *sort_opts;       /* canonical._SORT_OPTS */
static long max_depth = -1;

static PyObject *s_action, *s_notaction, *s_resource, *s_notresource, *s_principal, *s_notprincipal;
static PyObject *s_condition, *s_aws, *s_star;
static PyObject *s_statement, *s_keys, *s_any_key, *s_items, *s_drop, *s_default, *s_unordered, *s_child;
static PyObject *empty_tuple;

static PyObject *plain(PyObject *v, long d);

static PyObject *
raise_nesting(void)
{
    PyObject *exc = PyObject_CallFunction(nesting_error, "l", max_depth);
    if (exc != NULL) {
        PyErr_SetObject(nesting_error, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* `x[0] in "{[%"` for a non-empty str */
static inline int
json_start(PyObject *s)
{
    Py_UCS4 c = PyUnicode_READ_CHAR(s, 0);
    return c == '{' || c == '[' || c == '%';
}

static inline int
is_empty(PyObject *x)
{
    if (x == Py_None)
        return 1;
    if (PyUnicode_CheckExact(x))
        return PyUnicode_GET_LENGTH(x) == 0;
    if (PyList_CheckExact(x))
        return PyList_GET_SIZE(x) == 0;
    if (PyDict_CheckExact(x))
        return PyDict_GET_SIZE(x) == 0;
    return 0;
}

/* _plain_str: a non-empty str */
static PyObject *
plain_str(PyObject *v, long d)
{
    if (json_start(v)) {
        PyObject *parsed = PyObject_CallOneArg(json_in_text, v);
        if (parsed == NULL)
            return NULL;
        if (parsed != Py_None) {
            PyObject *r = plain(parsed, d);
            Py_DECREF(parsed);
            return r;
        }
        Py_DECREF(parsed);
    }
    Py_INCREF(v);
    return v;
}

/* A mapping value where no rule applies, as the Python's inline branch: a new reference, or NULL with
 * *skip set when the entry is dropped (no exception), or NULL without *skip on error. */
static PyObject *
plain_entry(PyObject *x, long d, int *skip)
{
    *skip = 0;
    if (PyUnicode_CheckExact(x)) {
        if (PyUnicode_GET_LENGTH(x) == 0) {
            *skip = 1;
            return NULL;
        }
        if (json_start(x)) {
            PyObject *nx = plain_str(x, d + 1);
            if (nx == NULL)
                return NULL;
            if (is_empty(nx)) {
                Py_DECREF(nx);
                *skip = 1;
                return NULL;
            }
            return nx;
        }
    }
    else if (PyDict_CheckExact(x) || PyList_CheckExact(x)) {
        if (PyDict_CheckExact(x) ? PyDict_GET_SIZE(x) == 0 : PyList_GET_SIZE(x) == 0) {
            *skip = 1;
            return NULL;
        }
        PyObject *nx = plain(x, d + 1);
        if (nx == NULL)
            return NULL;
        int falsy = PyObject_Not(nx);
        if (falsy < 0) {
            Py_DECREF(nx);
            return NULL;
        }
        if (falsy) {
            Py_DECREF(nx);
            *skip = 1;
            return NULL;
        }
        return nx;
    }
    else if (x == Py_None) {
        *skip = 1;
        return NULL;
    }
    Py_INCREF(x);
    return x;
}

static PyObject *policy(PyObject *doc);

/* `if "Statement" in out: return _policy(out)`; steals out */
static PyObject *
finish_mapping(PyObject *out)
{
    int has = PyDict_Contains(out, s_statement);
    if (has < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return has ? policy(out) : out;
}

/* A list item, as both walks' comprehensions handle it */
static inline PyObject *
item(PyObject *x, long d, PyObject *node, PyObject *(*walk_fn)(PyObject *, PyObject *, long))
{
    if (PyDict_CheckExact(x) || PyList_CheckExact(x))
        return node == NULL ? plain(x, d) : walk_fn(x, node, d);
    if (PyUnicode_CheckExact(x) && PyUnicode_GET_LENGTH(x) > 0)
        return plain_str(x, d);
    Py_INCREF(x);
    return x;
}

static PyObject *walk(PyObject *v, PyObject *node, long d);

/* The dict `out` that replaces v once its entry `upto` (counted from 0 in iteration order) changes:
 * a new dict holding v's entries before it, which were unchanged. */
static PyObject *
copy_head(PyObject *v, Py_ssize_t upto)
{
    PyObject *out = PyDict_New();
    if (out == NULL)
        return NULL;
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *x;
    while (i < upto && PyDict_Next(v, &pos, &k, &x)) {
        if (PyDict_SetItem(out, k, x) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        i++;
    }
    return out;
}

/* The list that replaces v once its item `upto` changes: v's items before it, then empty slots. */
static PyObject *
list_head(PyObject *v, Py_ssize_t n, Py_ssize_t upto)
{
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t j = 0; j < upto; j++) {
        PyObject *y = PyList_GET_ITEM(v, j);
        Py_INCREF(y);
        PyList_SET_ITEM(out, j, y);
    }
    return out;
}

static PyObject *
changed_size(PyObject *out)
{
    Py_XDECREF(out);
    PyErr_SetString(PyExc_RuntimeError, "a list changed size during canonicalisation");
    return NULL;
}

/* Both walks' list comprehension, copy on write: v itself when no item changed. node NULL: _plain's. */
static PyObject *
map_list(PyObject *v, PyObject *node, long d)
{
    if (d > max_depth)
        return raise_nesting();
    Py_ssize_t n = PyList_GET_SIZE(v);
    PyObject *out = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyList_GET_SIZE(v) != n)
            return changed_size(out);
        PyObject *x = PyList_GET_ITEM(v, i);
        Py_INCREF(x);
        PyObject *nx = item(x, d + 1, node, walk);
        if (nx == NULL) {
            Py_DECREF(x);
            Py_XDECREF(out);
            return NULL;
        }
        if (out == NULL && nx == x) {
            Py_DECREF(nx);
            Py_DECREF(x);
            continue;
        }
        Py_DECREF(x);
        if (out == NULL) {
            if (PyList_GET_SIZE(v) != n) {
                Py_DECREF(nx);
                return changed_size(NULL);
            }
            out = list_head(v, n, i);
            if (out == NULL) {
                Py_DECREF(nx);
                return NULL;
            }
        }
        PyList_SET_ITEM(out, i, nx);
    }
    if (out == NULL) {
        Py_INCREF(v);
        return v;
    }
    return out;
}

/* sort_key(x): orjson.dumps(x, option=_SORT_OPTS) */
static PyObject *
sort_key_of(PyObject *x)
{
    PyObject *args[2] = {x, sort_opts};
    return PyObject_Vectorcall(dumps, args, 1, dumps_kwnames);
}

/* list.sort(key=sort_key) in place, stable: by (key, position) */
static int
sort_by_key(PyObject *lst)
{
    Py_ssize_t n = PyList_GET_SIZE(lst);
    if (n == 0)  /* a single item's key is still computed, as list.sort does: its error is the same */
        return 0;
    PyObject *pairs = PyList_New(n);
    if (pairs == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = sort_key_of(PyList_GET_ITEM(lst, i));
        if (key == NULL)
            goto fail;
        PyObject *pos = PyLong_FromSsize_t(i);
        if (pos == NULL) {
            Py_DECREF(key);
            goto fail;
        }
        PyObject *pair = PyTuple_Pack(2, key, pos);
        Py_DECREF(key);
        Py_DECREF(pos);
        if (pair == NULL)
            goto fail;
        PyList_SET_ITEM(pairs, i, pair);
    }
    if (PyList_Sort(pairs) < 0 || PyList_GET_SIZE(lst) != n)
        goto fail;
    PyObject *old = PyList_GetSlice(lst, 0, n);
    if (old == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(PyList_GET_ITEM(pairs, i), 1));
        PyObject *y = PyList_GET_ITEM(old, at);
        Py_INCREF(y);
        PyList_SetItem(lst, i, y);
    }
    Py_DECREF(old);
    Py_DECREF(pairs);
    return 0;
fail:
    Py_DECREF(pairs);
    return -1;
}

/* _as_set: v (or [v]) de-duplicated by sort key, the first of equals kept, sorted by sort key */
static PyObject *
as_set(PyObject *v)
{
    PyObject *seen = PyDict_New();
    if (seen == NULL)
        return NULL;
    Py_ssize_t n = PyList_Check(v) ? PyList_GET_SIZE(v) : 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *x = PyList_Check(v) ? PyList_GET_ITEM(v, i) : v;
        Py_INCREF(x);
        PyObject *key = sort_key_of(x);
        if (key == NULL || PyDict_SetDefault(seen, key, x) == NULL) {
            Py_XDECREF(key);
            Py_DECREF(x);
            Py_DECREF(seen);
            return NULL;
        }
        Py_DECREF(key);
        Py_DECREF(x);
        if (PyList_Check(v) && PyList_GET_SIZE(v) != n) {
            Py_DECREF(seen);
            return changed_size(NULL);
        }
    }
    PyObject *keys = PyDict_Keys(seen);
    if (keys == NULL || PyList_Sort(keys) < 0) {
        Py_XDECREF(keys);
        Py_DECREF(seen);
        return NULL;
    }
    Py_ssize_t m = PyList_GET_SIZE(keys);
    for (Py_ssize_t i = 0; i < m; i++) {
        PyObject *x = PyDict_GetItemWithError(seen, PyList_GET_ITEM(keys, i));
        if (x == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_KeyError, "set member lost");
            Py_DECREF(keys);
            Py_DECREF(seen);
            return NULL;
        }
        Py_INCREF(x);
        PyList_SetItem(keys, i, x);
    }
    Py_DECREF(seen);
    return keys;
}

/* out[name] = _as_set(out[name]) where present */
static int
set_in_place(PyObject *out, PyObject *name)
{
    PyObject *x = PyDict_GetItemWithError(out, name);
    if (x == NULL)
        return PyErr_Occurred() ? -1 : 0;
    PyObject *s = as_set(x);
    if (s == NULL)
        return -1;
    int rc = PyDict_SetItem(out, name, s);
    Py_DECREF(s);
    return rc;
}

/* {k: _as_set(v) for k, v in d.items()} */
static PyObject *
sets_of(PyObject *d)
{
    PyObject *out = PyDict_New();
    if (out == NULL)
        return NULL;
    Py_ssize_t pos = 0;
    PyObject *k, *x;
    Py_INCREF(d);
    while (PyDict_Next(d, &pos, &k, &x)) {
        Py_INCREF(k);
        Py_INCREF(x);
        PyObject *s = as_set(x);
        int rc = s == NULL ? -1 : PyDict_SetItem(out, k, s);
        Py_XDECREF(s);
        Py_DECREF(k);
        Py_DECREF(x);
        if (rc < 0) {
            Py_DECREF(d);
            Py_DECREF(out);
            return NULL;
        }
    }
    Py_DECREF(d);
    return out;
}

/* _statement: a new dict */
static PyObject *
statement(PyObject *s)
{
    PyObject *out = PyDict_Copy(s);
    if (out == NULL)
        return NULL;
    PyObject *set_keys[4] = {s_action, s_notaction, s_resource, s_notresource};
    for (int i = 0; i < 4; i++)
        if (set_in_place(out, set_keys[i]) < 0)
            goto fail;
    PyObject *principals[2] = {s_principal, s_notprincipal};
    for (int i = 0; i < 2; i++) {
        PyObject *p = PyDict_GetItemWithError(out, principals[i]);
        if (p == NULL) {
            if (PyErr_Occurred())
                goto fail;
            p = Py_None;
        }
        if (PyDict_Check(p)) {
            PyObject *sets = sets_of(p);
            int rc = sets == NULL ? -1 : PyDict_SetItem(out, principals[i], sets);
            Py_XDECREF(sets);
            if (rc < 0)
                goto fail;
        }
        else if (principals[i] == s_principal) {
            Py_INCREF(p);
            int star = PyObject_RichCompareBool(p, s_star, Py_EQ);
            Py_DECREF(p);
            if (star < 0)
                goto fail;
            if (star) {
                PyObject *wild = Py_BuildValue("{O:[O]}", s_aws, s_star);
                int rc = wild == NULL ? -1 : PyDict_SetItem(out, s_principal, wild);
                Py_XDECREF(wild);
                if (rc < 0)
                    goto fail;
            }
        }
    }
    PyObject *cond = PyDict_GetItemWithError(out, s_condition);
    if (cond == NULL && PyErr_Occurred())
        goto fail;
    if (cond != NULL && PyDict_Check(cond)) {
        PyObject *nc = PyDict_New();
        if (nc == NULL)
            goto fail;
        Py_ssize_t pos = 0;
        PyObject *op, *body;
        Py_INCREF(cond);
        while (PyDict_Next(cond, &pos, &op, &body)) {
            Py_INCREF(op);
            Py_INCREF(body);
            PyObject *nb = PyDict_Check(body) ? sets_of(body) : (Py_INCREF(body), body);
            int rc = nb == NULL ? -1 : PyDict_SetItem(nc, op, nb);
            Py_XDECREF(nb);
            Py_DECREF(op);
            Py_DECREF(body);
            if (rc < 0) {
                Py_DECREF(cond);
                Py_DECREF(nc);
                goto fail;
            }
        }
        Py_DECREF(cond);
        int rc = PyDict_SetItem(out, s_condition, nc);
        Py_DECREF(nc);
        if (rc < 0)
            goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* _policy(doc): a dict holding "Statement" in IAM's canonical shape; steals doc */
static PyObject *
policy(PyObject *doc)
{
    PyObject *st = PyDict_GetItemWithError(doc, s_statement);
    if (st == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, s_statement);
        Py_DECREF(doc);
        return NULL;
    }
    PyObject *stmts;
    if (PyDict_Check(st)) {
        PyObject *one = statement(st);
        stmts = one == NULL ? NULL : PyList_New(1);
        if (stmts != NULL)
            PyList_SET_ITEM(stmts, 0, one);
        else
            Py_XDECREF(one);
    }
    else if (PyList_Check(st)) {
        Py_INCREF(st);
        Py_ssize_t n = PyList_GET_SIZE(st);
        stmts = PyList_New(n);
        for (Py_ssize_t i = 0; stmts != NULL && i < n; i++) {
            if (PyList_GET_SIZE(st) != n) {
                stmts = changed_size(stmts);
                break;
            }
            PyObject *s = PyList_GET_ITEM(st, i);
            PyObject *ns;
            if (PyDict_Check(s)) {
                Py_INCREF(s);
                ns = statement(s);
                Py_DECREF(s);
            }
            else {
                Py_INCREF(s);
                ns = s;
            }
            if (ns == NULL)
                Py_CLEAR(stmts);
            else
                PyList_SET_ITEM(stmts, i, ns);
        }
        Py_DECREF(st);
    }
    else
        return doc;
    if (stmts == NULL || sort_by_key(stmts) < 0) {
        Py_XDECREF(stmts);
        Py_DECREF(doc);
        return NULL;
    }
    PyObject *out = PyDict_Copy(doc);
    Py_DECREF(doc);
    if (out == NULL || PyDict_SetItem(out, s_statement, stmts) < 0) {
        Py_XDECREF(out);
        Py_DECREF(stmts);
        return NULL;
    }
    Py_DECREF(stmts);
    return out;
}

/* _plain. Copy on write: a dict or list none of whose entries changed is returned itself (the Python
 * builds an equal copy; canonical values are never modified in place, see strip.py, which shares too). */
static PyObject *
plain(PyObject *v, long d)
{
    if (PyDict_CheckExact(v)) {
        if (d > max_depth)
            return raise_nesting();
        PyObject *out = NULL;
        Py_ssize_t pos = 0, i = 0;
        PyObject *k, *x;
        Py_INCREF(v);
        while (PyDict_Next(v, &pos, &k, &x)) {
            int skip;
            Py_INCREF(k);
            Py_INCREF(x);
            PyObject *nx = plain_entry(x, d, &skip);
            if (nx == NULL && !skip) {
                Py_DECREF(k);
                Py_DECREF(x);
                goto fail;
            }
            if (out == NULL && nx == x) {  /* unchanged so far */
                Py_DECREF(nx);
                Py_DECREF(k);
                Py_DECREF(x);
                i++;
                continue;
            }
            Py_DECREF(x);
            if (out == NULL && (out = copy_head(v, i)) == NULL) {
                Py_XDECREF(nx);
                Py_DECREF(k);
                goto fail;
            }
            i++;
            if (nx != NULL) {
                int rc = PyDict_SetItem(out, k, nx);
                Py_DECREF(nx);
                if (rc < 0) {
                    Py_DECREF(k);
                    goto fail;
                }
            }
            Py_DECREF(k);
        }
        if (out == NULL)
            out = v;  /* the reference taken above */
        else
            Py_DECREF(v);
        return finish_mapping(out);
    fail:
        Py_DECREF(v);
        Py_XDECREF(out);
        return NULL;
    }
    if (PyList_CheckExact(v))
        return map_list(v, NULL, d);
    if (PyUnicode_CheckExact(v) && PyUnicode_GET_LENGTH(v) > 0)
        return plain_str(v, d);
    Py_INCREF(v);
    return v;
}

static int
truthy_attr(PyObject *obj, PyObject *name)
{
    PyObject *a = PyObject_GetAttr(obj, name);
    if (a == NULL)
        return -1;
    int r = PyObject_IsTrue(a);
    Py_DECREF(a);
    return r;
}

/* `default` rule: 1 when nx equals the rule's default (same type), 0 when not, -1 on error */
static int
is_default(PyObject *child, PyObject *nx)
{
    PyObject *dt = PyObject_GetAttr(child, s_default);
    if (dt == NULL)
        return -1;
    if (dt == Py_None) {
        Py_DECREF(dt);
        return 0;
    }
    PyObject *dflt = PySequence_GetItem(dt, 0);
    Py_DECREF(dt);
    if (dflt == NULL)
        return -1;
    int r = 0;
    if (Py_TYPE(nx) == Py_TYPE(dflt))
        r = PyObject_RichCompareBool(nx, dflt, Py_EQ);
    Py_DECREF(dflt);
    return r;
}

static PyObject *
walk_mapping(PyObject *v, PyObject *node, long d)
{
    if (d > max_depth)
        return raise_nesting();
    PyObject *any_key = PyObject_GetAttr(node, s_any_key);
    if (any_key == NULL)
        return NULL;
    PyObject *keys = NULL, *child_fn = NULL;
    if (any_key == Py_None)
        keys = PyObject_GetAttr(node, s_keys);
    else
        child_fn = PyObject_GetAttr(node, s_child);
    Py_DECREF(any_key);
    if (keys == NULL && child_fn == NULL)
        return NULL;
    if (keys != NULL && !PyDict_Check(keys)) {
        PyErr_SetString(PyExc_TypeError, "RuleNode.keys must be a dict");
        Py_DECREF(keys);
        return NULL;
    }
    PyObject *out = NULL;
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *x;
    Py_INCREF(v);
    while (PyDict_Next(v, &pos, &k, &x)) {
        Py_INCREF(k);
        Py_INCREF(x);
        PyObject *child;
        if (keys != NULL) {
            child = PyDict_GetItemWithError(keys, k);
            if (child == NULL && PyErr_Occurred())
                goto fail_item;
            Py_XINCREF(child);
        }
        else {
            child = PyObject_CallOneArg(child_fn, k);
            if (child == NULL)
                goto fail_item;
            if (child == Py_None) {
                Py_DECREF(child);
                child = NULL;
            }
        }
        PyObject *nx; /* NULL: the entry is dropped */
        if (child == NULL) {
            int skip;
            nx = plain_entry(x, d, &skip);
            if (nx == NULL && !skip)
                goto fail_item;
        }
        else {
            int drop = truthy_attr(child, s_drop);
            if (drop < 0) {
                Py_DECREF(child);
                goto fail_item;
            }
            if (drop)
                nx = NULL;
            else {
                if (PyDict_CheckExact(x) || PyList_CheckExact(x))
                    nx = walk(x, child, d + 1);
                else if (PyUnicode_CheckExact(x) && PyUnicode_GET_LENGTH(x) > 0)
                    nx = plain_str(x, d + 1);
                else {
                    Py_INCREF(x);
                    nx = x;
                }
                if (nx == NULL) {
                    Py_DECREF(child);
                    goto fail_item;
                }
                int dflt = is_default(child, nx);
                if (dflt < 0) {
                    Py_DECREF(child);
                    Py_DECREF(nx);
                    goto fail_item;
                }
                if (dflt || is_empty(nx))
                    Py_CLEAR(nx);
            }
            Py_DECREF(child);
        }
        if (out == NULL && nx == x) {  /* unchanged so far */
            Py_DECREF(nx);
            Py_DECREF(k);
            Py_DECREF(x);
            i++;
            continue;
        }
        if (out == NULL && (out = copy_head(v, i)) == NULL) {
            Py_XDECREF(nx);
            goto fail_item;
        }
        i++;
        if (nx != NULL) {
            int rc = PyDict_SetItem(out, k, nx);
            Py_DECREF(nx);
            if (rc < 0)
                goto fail_item;
        }
        Py_DECREF(k);
        Py_DECREF(x);
        continue;
    fail_item:
        Py_DECREF(k);
        Py_DECREF(x);
        goto fail;
    }
    Py_XDECREF(keys);
    Py_XDECREF(child_fn);
    if (out == NULL)
        out = v;  /* the reference taken above */
    else
        Py_DECREF(v);
    return finish_mapping(out);
fail:
    Py_DECREF(v);
    Py_XDECREF(out);
    Py_XDECREF(keys);
    Py_XDECREF(child_fn);
    return NULL;
}

static PyObject *
walk_list(PyObject *v, PyObject *node, long d)
{
    PyObject *items = PyObject_GetAttr(node, s_items);
    if (items == NULL)
        return NULL;
    PyObject *lst = map_list(v, items == Py_None ? NULL : items, d);
    Py_DECREF(items);
    if (lst == NULL)
        return NULL;
    int unordered = truthy_attr(node, s_unordered);
    if (unordered < 0) {
        Py_DECREF(lst);
        return NULL;
    }
    if (unordered) {
        if (lst == v) {  /* sorted in place below: never the caller's list */
            Py_DECREF(lst);
            if ((lst = PyList_GetSlice(v, 0, PyList_GET_SIZE(v))) == NULL)
                return NULL;
        }
        if (sort_by_key(lst) < 0) {
            Py_DECREF(lst);
            return NULL;
        }
    }
    return lst;
}

static PyObject *
walk(PyObject *v, PyObject *node, long d)
{
    if (node == Py_None)
        return plain(v, d);
    if (PyDict_CheckExact(v))
        return walk_mapping(v, node, d);
    if (PyList_CheckExact(v))
        return walk_list(v, node, d);
    if (PyUnicode_CheckExact(v) && PyUnicode_GET_LENGTH(v) > 0)
        return plain_str(v, d);
    Py_INCREF(v);
    return v;
}

static PyObject *
py_walk(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "walk(value, rules) takes two arguments");
        return NULL;
    }
    if (max_depth < 0) {
        PyErr_SetString(PyExc_RuntimeError, "parity.normalize._cwalk.configure() was not called");
        return NULL;
    }
    return walk(args[0], args[1], 0);
}

static PyObject *
py_configure(PyObject *self, PyObject *args)
{
    PyObject *ne, *jt, *du, *so;
    long md;
    if (!PyArg_ParseTuple(args, "OOOOl:configure", &ne, &jt, &du, &so, &md))
        return NULL;
    if (!PyExceptionClass_Check(ne)) {
        PyErr_SetString(PyExc_TypeError, "configure(): nesting_error must be an exception class");
        return NULL;
    }
    Py_INCREF(ne);
    Py_XSETREF(nesting_error, ne);
    Py_INCREF(jt);
    Py_XSETREF(json_in_text, jt);
    Py_INCREF(du);
    Py_XSETREF(dumps, du);
    Py_INCREF(so);
    Py_XSETREF(sort_opts, so);
    max_depth = md;
    Py_RETURN_NONE;
}


/* parity.redact.redact_secret_keys_in_place: every value under a key that looks secret replaced by its
 * marker, in place, at any depth of exact dicts and lists; True when something was replaced. `cache` is
 * parity.redact's verdict cache (key -> bool), `is_secret` the Python check for keys not in it (it fills
 * the cache), `redact` the Redactor's method. The same explicit stack and order as the Python. */
static PyObject *
py_redact_secret_keys(PyObject *self, PyObject *args)
{
    PyObject *root, *cache, *is_secret, *redact;
    if (!PyArg_ParseTuple(args, "OO!OO:redact_secret_keys", &root, &PyDict_Type, &cache, &is_secret, &redact))
        return NULL;
    PyObject *stack = PyList_New(0);
    if (stack == NULL || PyList_Append(stack, root) < 0) {
        Py_XDECREF(stack);
        return NULL;
    }
    int changed = 0;
    while (PyList_GET_SIZE(stack) > 0) {
        Py_ssize_t top = PyList_GET_SIZE(stack) - 1;
        PyObject *node = PyList_GET_ITEM(stack, top);
        Py_INCREF(node);
        if (PyList_SetSlice(stack, top, top + 1, NULL) < 0) {
            Py_DECREF(node);
            goto fail;
        }
        if (PyDict_CheckExact(node)) {
            Py_ssize_t pos = 0;
            PyObject *k, *v;
            while (PyDict_Next(node, &pos, &k, &v)) {
                Py_INCREF(k);
                Py_INCREF(v);
                int secret;
                PyObject *verdict = PyDict_GetItemWithError(cache, k);
                if (verdict != NULL)
                    secret = PyObject_IsTrue(verdict);
                else if (PyErr_Occurred())
                    secret = -1;
                else {
                    verdict = PyObject_CallOneArg(is_secret, k);
                    secret = verdict == NULL ? -1 : PyObject_IsTrue(verdict);
                    Py_XDECREF(verdict);
                }
                int rc = 0;
                if (secret < 0)
                    rc = -1;
                else if (secret) {
                    if (v != Py_None) {
                        PyObject *marker = PyObject_CallOneArg(redact, v);
                        if (marker == NULL)
                            rc = -1;
                        else {
                            if (marker != v) { /* an existing marker is kept as it is */
                                rc = PyDict_SetItem(node, k, marker); /* same key: safe while iterating */
                                changed = 1;
                            }
                            Py_DECREF(marker);
                        }
                    }
                }
                else if (PyDict_CheckExact(v) || PyList_CheckExact(v))
                    rc = PyList_Append(stack, v);
                Py_DECREF(k);
                Py_DECREF(v);
                if (rc < 0) {
                    Py_DECREF(node);
                    goto fail;
                }
            }
        }
        else {
            PyObject *seq = PySequence_Fast(node, "redact_secret_keys: a list expected");
            if (seq == NULL) {
                Py_DECREF(node);
                goto fail;
            }
            Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
            for (Py_ssize_t i = 0; i < n; i++) {
                PyObject *v = PySequence_Fast_GET_ITEM(seq, i);
                if ((PyDict_CheckExact(v) || PyList_CheckExact(v)) && PyList_Append(stack, v) < 0) {
                    Py_DECREF(seq);
                    Py_DECREF(node);
                    goto fail;
                }
            }
            Py_DECREF(seq);
        }
        Py_DECREF(node);
    }
    Py_DECREF(stack);
    return PyBool_FromLong(changed);
fail:
    Py_DECREF(stack);
    return NULL;
}


/* ---------------------------------------------------------------- placeholder passes over bytes
 * Two of parity.normalize.placeholders' regex passes, by hand: the same matches (leftmost first, not
 * overlapping, look-arounds read in the original bytes) and the same output; tests/test_cwalk.py holds
 * each to its regex on generated bytes. Both replacements are shorter than what they replace, so the
 * output never outgrows the input. */

static inline int
is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
is_hex_lower(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* `prefix-` ends at position i (the '-'), preceded by a byte other than [A-Za-z0-9-] or by a JSON escape
 * \n \t \r \b \f: the regex's (?<=[^A-Za-z0-9-]sg-)|(?<=\\[ntrbf]sg-) for each prefix */
static int
prefix_before(const unsigned char *d, Py_ssize_t i, PyObject *prefixes)
{
    Py_ssize_t np = PyTuple_GET_SIZE(prefixes);
    for (Py_ssize_t k = 0; k < np; k++) {
        PyObject *p = PyTuple_GET_ITEM(prefixes, k);
        Py_ssize_t lp = PyBytes_GET_SIZE(p);
        Py_ssize_t at = i - lp;
        if (at < 1 || memcmp(d + at, PyBytes_AS_STRING(p), (size_t)lp) != 0)
            continue;
        unsigned char before = d[at - 1];
        if (!is_alnum(before) && before != '-')
            return 1;
        if (at >= 2 && d[at - 2] == '\\' &&
            (before == 'n' || before == 't' || before == 'r' || before == 'b' || before == 'f'))
            return 1;
    }
    return 0;
}

/* Every item of `tuple` is bytes, else a TypeError naming `what` */
static int
all_bytes(PyObject *tuple, const char *what)
{
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(tuple); k++)
        if (!PyBytes_Check(PyTuple_GET_ITEM(tuple, k))) {
            PyErr_Format(PyExc_TypeError, "%s must be bytes", what);
            return 0;
        }
    return 1;
}

/* One match of a pass: its output (created, input-sized, at the first match) gets the input from `copied`
 * up to `at`, then `repl`; 0, or -1 when the output cannot be allocated */
static int
splice(PyObject *data, PyObject **out, Py_ssize_t *w, Py_ssize_t copied, Py_ssize_t at, const char *repl,
       Py_ssize_t lr)
{
    if (*out == NULL && (*out = PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(data))) == NULL)
        return -1;
    char *o = PyBytes_AS_STRING(*out);
    memcpy(o + *w, PyBytes_AS_STRING(data) + copied, (size_t)(at - copied));
    *w += at - copied;
    memcpy(o + *w, repl, (size_t)lr);
    *w += lr;
    return 0;
}

/* The pass's result: `data` itself when nothing matched (out NULL), else `out` with the input's tail from
 * `copied` appended after its `w` bytes, cut to length */
static PyObject *
finish_pass(PyObject *data, PyObject *out, Py_ssize_t w, Py_ssize_t copied)
{
    if (out == NULL) {
        Py_INCREF(data);
        return data;
    }
    Py_ssize_t n = PyBytes_GET_SIZE(data);
    memcpy(PyBytes_AS_STRING(out) + w, PyBytes_AS_STRING(data) + copied, (size_t)(n - copied));
    if (_PyBytes_Resize(&out, w + n - copied) < 0)
        return NULL;
    return out;
}

/* _AWS_ID.sub(b"-{id}", data): "-" + exactly 8 or 17 lower-case hex digits not followed by [A-Za-z0-9],
 * after one of the prefixes as a whole part */
static PyObject *
py_sub_generated_ids(PyObject *self, PyObject *args)
{
    PyObject *data, *prefixes;
    if (!PyArg_ParseTuple(args, "SO!:sub_generated_ids", &data, &PyTuple_Type, &prefixes))
        return NULL;
    if (!all_bytes(prefixes, "sub_generated_ids: prefixes"))
        return NULL;
    const unsigned char *d = (const unsigned char *)PyBytes_AS_STRING(data);
    Py_ssize_t n = PyBytes_GET_SIZE(data);
    PyObject *out = NULL;
    Py_ssize_t copied = 0, w = 0; /* input copied up to `copied`; output written up to `w` */
    const unsigned char *hit = d;
    while ((hit = memchr(hit, '-', (size_t)(n - (hit - d)))) != NULL) {
        Py_ssize_t i = hit - d;
        Py_ssize_t run = 0;
        while (i + 1 + run < n && run < 18 && is_hex_lower(d[i + 1 + run]))
            run++;
        if ((run == 8 || run == 17) && (i + 1 + run >= n || !is_alnum(d[i + 1 + run])) &&
            prefix_before(d, i, prefixes)) {
            if (splice(data, &out, &w, copied, i, "-{id}", 5) < 0)
                return NULL;
            copied = i + 1 + run;
            hit = d + copied;
        }
        else
            hit++;
        if (hit >= d + n)
            break;
    }
    return finish_pass(data, out, w, copied);
}

/* The ARN pass: (arn:aws[a-z-]*:[A-Za-z0-9-]*:(?:\{region\})?:)(?!FOREIGN)...[0-9]{12}(?=:) -> \1{account} */
static PyObject *
py_sub_arn_accounts(PyObject *self, PyObject *args)
{
    PyObject *data, *foreign;
    if (!PyArg_ParseTuple(args, "SO!:sub_arn_accounts", &data, &PyTuple_Type, &foreign))
        return NULL;
    if (!all_bytes(foreign, "sub_arn_accounts: foreign accounts"))
        return NULL;
    const unsigned char *d = (const unsigned char *)PyBytes_AS_STRING(data);
    Py_ssize_t n = PyBytes_GET_SIZE(data);
    PyObject *out = NULL;
    Py_ssize_t copied = 0, w = 0, from = 0;
    for (;;) {
        const unsigned char *hit = NULL;
        if (n - from >= 7)
            hit = memmem(d + from, (size_t)(n - from), "arn:aws", 7);
        if (hit == NULL)
            break;
        Py_ssize_t s = hit - d, j = s + 7;
        while (j < n && ((d[j] >= 'a' && d[j] <= 'z') || d[j] == '-'))
            j++;
        int ok = j < n && d[j] == ':';
        if (ok) {
            j++;
            while (j < n && (is_alnum(d[j]) || d[j] == '-'))
                j++;
            ok = j < n && d[j] == ':';
        }
        if (ok) {
            j++;
            if (n - j >= 9 && memcmp(d + j, "{region}:", 9) == 0)
                j += 9;
            else if (j < n && d[j] == ':')
                j++;
            else
                ok = 0;
        }
        if (ok) {
            for (Py_ssize_t k = 0; ok && k < PyTuple_GET_SIZE(foreign); k++) {
                PyObject *f = PyTuple_GET_ITEM(foreign, k);
                Py_ssize_t lf = PyBytes_GET_SIZE(f);
                if (n - j >= lf && memcmp(d + j, PyBytes_AS_STRING(f), (size_t)lf) == 0)
                    ok = 0;
            }
        }
        if (ok) {
            if (n - j < 13)
                ok = 0;
            for (Py_ssize_t k = 0; ok && k < 12; k++)
                if (d[j + k] < '0' || d[j + k] > '9')
                    ok = 0;
            if (ok && d[j + 12] != ':')
                ok = 0;
        }
        if (!ok) {
            from = s + 1;
            continue;
        }
        if (splice(data, &out, &w, copied, j, "{account}", 9) < 0)
            return NULL;
        copied = from = j + 12;
    }
    return finish_pass(data, out, w, copied);
}

/* ---------------------------------------------------------------------------------------------------
 * The paired walk and the string scan: parity.compare.equal's equal_parts and settle, and
 * parity.compare.textscan's values_holding, ported, with textscan.holds inside both; the Python in those
 * modules is the reference (tests/test_equal.py holds them equal).
 *
 * The needles are a tuple of ASCII-lower-case bytes, looked for in a string's UTF-8 bytes with ASCII
 * letters folded to lower case (bytes.lower() in the Python). A table of first bytes leads the scan:
 * a string is read once, and only at a byte that starts some needle are the needles compared. */

typedef struct {
    unsigned char first[256];
    Py_ssize_t n;
    const unsigned char **lit;
    Py_ssize_t *len;
    int empty; /* an empty needle: in every string */
} needles_t;

static inline unsigned char
fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static void
needles_free(needles_t *nd)
{
    PyMem_Free(nd->lit);
    PyMem_Free(nd->len);
    nd->lit = NULL;
    nd->len = NULL;
}

/* 0, or -1 with an exception (not a tuple of bytes, or no memory). The tuple must outlive the needles. */
static int
needles_init(needles_t *nd, PyObject *tuple, const char *what)
{
    memset(nd, 0, sizeof *nd);
    if (!PyTuple_Check(tuple)) {
        PyErr_Format(PyExc_TypeError, "%s must be a tuple of bytes", what);
        return -1;
    }
    if (!all_bytes(tuple, what))
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(tuple);
    nd->lit = PyMem_Malloc(sizeof(*nd->lit) * (size_t)(n + 1));
    nd->len = PyMem_Malloc(sizeof(*nd->len) * (size_t)(n + 1));
    if (nd->lit == NULL || nd->len == NULL) {
        needles_free(nd);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *b = PyTuple_GET_ITEM(tuple, k);
        nd->lit[k] = (const unsigned char *)PyBytes_AS_STRING(b);
        nd->len[k] = PyBytes_GET_SIZE(b);
        if (nd->len[k] == 0)
            nd->empty = 1;
        else
            nd->first[nd->lit[k][0]] = 1;
    }
    nd->n = n;
    return 0;
}

/* 1 when b[0:n], ASCII-folded, holds a needle, else 0 */
static int
bytes_have(const needles_t *nd, const unsigned char *s, Py_ssize_t n)
{
    if (nd->empty)
        return 1;
    if (nd->n == 0)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = fold(s[i]);
        if (!nd->first[c])
            continue;
        for (Py_ssize_t k = 0; k < nd->n; k++) {
            Py_ssize_t m = nd->len[k];
            const unsigned char *l = nd->lit[k];
            if (m == 0 || l[0] != c || m > n - i)
                continue;
            Py_ssize_t j = 1;
            while (j < m && fold(s[i + j]) == l[j])
                j++;
            if (j == m)
                return 1;
        }
    }
    return 0;
}

/* A str's UTF-8: its own bytes when ASCII, else a temporary copy put in *tmp (AsUTF8 would keep a copy
 * in every string). 0, or -1 on error. */
static int
utf8_of(PyObject *s, PyObject **tmp, const unsigned char **b, Py_ssize_t *n)
{
    *tmp = NULL;
    if (PyUnicode_IS_ASCII(s)) {
        *b = PyUnicode_1BYTE_DATA(s);
        *n = PyUnicode_GET_LENGTH(s);
        return 0;
    }
    if ((*tmp = PyUnicode_AsUTF8String(s)) == NULL)
        return -1;
    *b = (const unsigned char *)PyBytes_AS_STRING(*tmp);
    *n = PyBytes_GET_SIZE(*tmp);
    return 0;
}

/* textscan.holds without accounts: 1, 0, or -1 on error */
static int
str_has(const needles_t *nd, PyObject *s)
{
    if (nd->n == 0)
        return 0;
    PyObject *tmp;
    const unsigned char *b;
    Py_ssize_t n;
    if (utf8_of(s, &tmp, &b, &n) < 0)
        return -1;
    int r = bytes_have(nd, b, n);
    Py_XDECREF(tmp);
    return r;
}

static inline int
same_str(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    if (n != PyUnicode_GET_LENGTH(b) || PyUnicode_KIND(a) != PyUnicode_KIND(b))
        return 0;
    return memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * PyUnicode_KIND(a)) == 0;
}

typedef struct {
    needles_t nd;
    PyObject *ul, *ur; /* distinct strings set aside, left and right, in first-seen order */
    PyObject *il, *ir; /* str -> its index in ul / ur */
    Py_ssize_t *refs;  /* (index in ul, index in ur) per string pair set aside */
    Py_ssize_t nrefs, cap;
    long max_depth;
} paired_t;

/* The index of s in `uniq` (appended when new, remembered in `index`), or -1 on error */
static Py_ssize_t
distinct(PyObject *index, PyObject *uniq, PyObject *s)
{
    PyObject *got = PyDict_GetItemWithError(index, s);
    if (got != NULL)
        return PyLong_AsSsize_t(got);
    if (PyErr_Occurred())
        return -1;
    Py_ssize_t n = PyList_GET_SIZE(uniq);
    PyObject *i = PyLong_FromSsize_t(n);
    if (i == NULL)
        return -1;
    int rc = PyDict_SetItem(index, s, i);
    Py_DECREF(i);
    if (rc < 0 || PyList_Append(uniq, s) < 0)
        return -1;
    return n;
}

/* _SetAside.add: the pair (a, b) is equal after placeholders only if their substitutions are */
static int
collect(paired_t *p, PyObject *a, PyObject *b)
{
    if (p->nrefs == p->cap) {
        Py_ssize_t cap = p->cap ? 2 * p->cap : 4096;
        Py_ssize_t *r = PyMem_Realloc(p->refs, sizeof(Py_ssize_t) * 2 * (size_t)cap);
        if (r == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        p->refs = r;
        p->cap = cap;
    }
    Py_ssize_t x = distinct(p->il, p->ul, a);
    if (x < 0)
        return -1;
    Py_ssize_t y = distinct(p->ir, p->ur, b);
    if (y < 0)
        return -1;
    p->refs[2 * p->nrefs] = x;
    p->refs[2 * p->nrefs + 1] = y;
    p->nrefs++;
    return 0;
}

/* Two strings (or a key) at one place: set aside when they differ, or when the text holds a needle (the
 * two sides' placeholders may write it differently). 1, or -1 on error. */
static int
pair_str(paired_t *p, PyObject *a, PyObject *b)
{
    int set_aside = !same_str(a, b);
    if (!set_aside && (set_aside = str_has(&p->nd, a)) < 0)
        return -1;
    if (set_aside && collect(p, a, b) < 0)
        return -1;
    return 1;
}

static int same(paired_t *p, PyObject *a, PyObject *b, long d);

/* One mapping entry present on both sides: its key (set aside if a needle is in it), then its values
 * (x, y) at depth d; borrowed references, held while walked */
static int
same_entry(paired_t *p, PyObject *k, PyObject *x, PyObject *y, long d)
{
    Py_INCREF(k);
    Py_INCREF(x);
    Py_INCREF(y);
    int r = pair_str(p, k, k);
    if (r == 1)
        r = same(p, x, y, d);
    Py_DECREF(k);
    Py_DECREF(x);
    Py_DECREF(y);
    return r;
}

/* The objects a container holds are scattered over the heap and read one after the other: asking for all
 * of them first lets the processor fetch them in parallel instead of waiting for each in turn */
static inline void
prefetch_values(PyObject *dict)
{
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(dict, &pos, &k, &v))
        __builtin_prefetch(v);
}

static inline void
prefetch_items(PyObject *list)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++)
        __builtin_prefetch(PyList_GET_ITEM(list, i));
}

/* While item i of a list of values is walked: item i + 2's object, and item i + 1's hash table */
static inline void
prefetch_ahead(PyObject *list, Py_ssize_t i)
{
    Py_ssize_t n = PyList_GET_SIZE(list);
    if (i + 2 < n)
        __builtin_prefetch(PyList_GET_ITEM(list, i + 2));
    if (i + 1 < n && PyDict_CheckExact(PyList_GET_ITEM(list, i + 1)))
        __builtin_prefetch(((PyDictObject *)PyList_GET_ITEM(list, i + 1))->ma_keys);
}

/* _same: 1 when a and b have the same shape and scalars (strings set aside), 0 when unsure, -1 on error */
static int
same(paired_t *p, PyObject *a, PyObject *b, long d)
{
    PyTypeObject *t = Py_TYPE(a);
    if (t != Py_TYPE(b))
        return 0;
    if (t == &PyUnicode_Type)
        return pair_str(p, a, b);
    if (t == &PyDict_Type) {
        if (d > p->max_depth || PyDict_GET_SIZE(a) != PyDict_GET_SIZE(b))
            return 0;
        Py_ssize_t pos = 0, pos_b = 0;
        PyObject *k, *x, *kb, *y;
        prefetch_values(a);
        prefetch_values(b);
        while (PyDict_Next(a, &pos, &k, &x)) {
            if (!PyUnicode_CheckExact(k))
                return 0;
            /* Both sides usually hold their keys in the same order (one source wrote both), and equal keys
             * parsed by orjson are one object: b's entry at the same position is then the one, unlooked-up */
            if (!PyDict_Next(b, &pos_b, &kb, &y) || (kb != k && !(PyUnicode_CheckExact(kb) && same_str(k, kb)))) {
                y = PyDict_GetItemWithError(b, k);
                if (y == NULL)
                    return PyErr_Occurred() ? -1 : 0;
            }
            int r = same_entry(p, k, x, y, d + 1);
            if (r != 1)
                return r;
        }
        return 1;
    }
    if (t == &PyList_Type) {
        if (d > p->max_depth || PyList_GET_SIZE(a) != PyList_GET_SIZE(b))
            return 0;
        prefetch_items(a);
        prefetch_items(b);
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(a); i++) {
            if (i >= PyList_GET_SIZE(b))
                return 0;
            PyObject *x = PyList_GET_ITEM(a, i), *y = PyList_GET_ITEM(b, i);
            Py_INCREF(x);
            Py_INCREF(y);
            int r = same(p, x, y, d + 1);
            Py_DECREF(x);
            Py_DECREF(y);
            if (r != 1)
                return r;
        }
        return 1;
    }
    if (a == Py_None || t == &PyBool_Type)
        return a == b;
    if (t == &PyLong_Type)
        return PyObject_RichCompareBool(a, b, Py_EQ);
    if (t == &PyFloat_Type) { /* the same bits: 0.0 and -0.0 are written differently */
        double x = PyFloat_AS_DOUBLE(a), y = PyFloat_AS_DOUBLE(b);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    return 0;
}

/* Whether top-level key k is in drop set `drops` (None: no set): 1, 0, or -1 on error */
static inline int
dropped(PyObject *drops, PyObject *k)
{
    return drops == Py_None ? 0 : PySet_Contains(drops, k);
}

/* The entries of dict a that `drops` leaves, or -1 on error */
static Py_ssize_t
kept_size(PyObject *a, PyObject *drops)
{
    if (drops == Py_None)
        return PyDict_GET_SIZE(a);
    Py_ssize_t pos = 0, n = 0;
    PyObject *k, *x;
    while (PyDict_Next(a, &pos, &k, &x)) {
        int in = PySet_Contains(drops, k);
        if (in < 0)
            return -1;
        n += !in;
    }
    return n;
}

/* _same_top: a pair's two values, each without its side's top-level keys in da / db (None: none) */
static int
same_top(paired_t *p, PyObject *a, PyObject *b, PyObject *da, PyObject *db)
{
    if ((da == Py_None && db == Py_None) || !PyDict_CheckExact(a) || !PyDict_CheckExact(b))
        return same(p, a, b, 0);
    prefetch_values(a);
    prefetch_values(b);
    Py_ssize_t na = kept_size(a, da), nb = kept_size(b, db);
    if (na < 0 || nb < 0)
        return -1;
    if (na != nb)
        return 0;
    Py_ssize_t pos = 0;
    PyObject *k, *x;
    while (PyDict_Next(a, &pos, &k, &x)) {
        int skip = dropped(da, k);
        if (skip < 0)
            return -1;
        if (skip)
            continue;
        if (!PyUnicode_CheckExact(k))
            return 0;
        PyObject *y = PyDict_GetItemWithError(b, k);
        if (y == NULL)
            return PyErr_Occurred() ? -1 : 0;
        if ((skip = dropped(db, k)) != 0)
            return skip < 0 ? -1 : 0;
        int r = same_entry(p, k, x, y, 1);
        if (r != 1)
            return r;
    }
    return 1;
}

/* The drop set at position i of `drops` (a list, or None for no sets at all), borrowed */
static inline PyObject *
drops_at(PyObject *drops, Py_ssize_t i)
{
    return drops == Py_None ? Py_None : PyList_GET_ITEM(drops, i);
}

/* equal_parts(left, right, needles, max_depth, drops_left, drops_right) -> (status, left strings, right
 * strings, refs, bounds): parity.compare.equal.equal_parts (refs and bounds as native int64 bytes) */
static PyObject *
py_equal_parts(PyObject *self, PyObject *args)
{
    PyObject *left, *right, *lits, *drops_l = Py_None, *drops_r = Py_None;
    long md;
    if (!PyArg_ParseTuple(args, "O!O!Ol|OO:equal_parts", &PyList_Type, &left, &PyList_Type, &right, &lits, &md,
                          &drops_l, &drops_r))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(left);
    if (PyList_GET_SIZE(right) != n) {
        PyErr_SetString(PyExc_ValueError, "equal_parts: the two lists differ in length");
        return NULL;
    }
    PyObject *sides[2] = {drops_l, drops_r};
    for (int s = 0; s < 2; s++) {
        PyObject *d = sides[s];
        if (d == Py_None)
            continue;
        if (!PyList_CheckExact(d) || PyList_GET_SIZE(d) != n) {
            PyErr_SetString(PyExc_ValueError, "equal_parts: drops must be None or a list as long as the values");
            return NULL;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *x = PyList_GET_ITEM(d, i);
            if (x != Py_None && !PyFrozenSet_CheckExact(x)) {
                PyErr_SetString(PyExc_TypeError, "equal_parts: each drop set must be a frozenset or None");
                return NULL;
            }
        }
    }
    paired_t p;
    memset(&p, 0, sizeof p);
    p.max_depth = md;
    if (needles_init(&p.nd, lits, "equal_parts: needles") < 0)
        return NULL;
    PyObject *status = PyBytes_FromStringAndSize(NULL, n);
    PyObject *bounds = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)sizeof(int64_t) * (n + 1));
    PyObject *refs = NULL, *out = NULL;
    p.ul = PyList_New(0);
    p.ur = PyList_New(0);
    p.il = PyDict_New();
    p.ir = PyDict_New();
    if (status == NULL || bounds == NULL || p.ul == NULL || p.ur == NULL || p.il == NULL || p.ir == NULL)
        goto done;
    char *st = PyBytes_AS_STRING(status);
    int64_t *bd = (int64_t *)PyBytes_AS_STRING(bounds);
    bd[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t mark = p.nrefs;
        prefetch_ahead(left, i); /* the next pairs, while this one is walked */
        prefetch_ahead(right, i);
        PyObject *a = PyList_GET_ITEM(left, i), *b = PyList_GET_ITEM(right, i);
        Py_INCREF(a);
        Py_INCREF(b);
        int r = same_top(&p, a, b, drops_at(drops_l, i), drops_at(drops_r, i));
        Py_DECREF(a);
        Py_DECREF(b);
        if (r < 0)
            goto done;
        if (r == 0) {
            st[i] = 1;
            p.nrefs = mark; /* its distinct strings stay listed: they are only substituted */
        }
        else
            st[i] = p.nrefs > mark ? 2 : 0;
        bd[i + 1] = (int64_t)p.nrefs;
    }
    refs = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)sizeof(int64_t) * 2 * p.nrefs);
    if (refs == NULL)
        goto done;
    int64_t *rf = (int64_t *)PyBytes_AS_STRING(refs);
    for (Py_ssize_t k = 0; k < 2 * p.nrefs; k++)
        rf[k] = (int64_t)p.refs[k];
    out = PyTuple_Pack(5, status, p.ul, p.ur, refs, bounds);
done:
    needles_free(&p.nd);
    PyMem_Free(p.refs);
    Py_XDECREF(status);
    Py_XDECREF(bounds);
    Py_XDECREF(refs);
    Py_XDECREF(p.ul);
    Py_XDECREF(p.ur);
    Py_XDECREF(p.il);
    Py_XDECREF(p.ir);
    return out;
}

/* settle(status, refs, bounds, left, right) -> list[int]: parity.compare.equal.settle */
static PyObject *
py_settle(PyObject *self, PyObject *args)
{
    PyObject *status, *refs, *bounds, *left, *right;
    if (!PyArg_ParseTuple(args, "SSSOO:settle", &status, &refs, &bounds, &left, &right))
        return NULL;
    Py_ssize_t n = PyBytes_GET_SIZE(status);
    if (PyBytes_GET_SIZE(bounds) != (Py_ssize_t)sizeof(int64_t) * (n + 1) ||
        PyBytes_GET_SIZE(refs) % (Py_ssize_t)(2 * sizeof(int64_t)) != 0 ||
        (left != Py_None && !PyList_CheckExact(left)) || (right != Py_None && !PyList_CheckExact(right)))
        goto bad_args;
    const char *st = PyBytes_AS_STRING(status);
    const int64_t *bd = (const int64_t *)PyBytes_AS_STRING(bounds);
    const int64_t *rf = (const int64_t *)PyBytes_AS_STRING(refs);
    int64_t nrefs = PyBytes_GET_SIZE(refs) / (Py_ssize_t)(2 * sizeof(int64_t));
    int known = left != Py_None && right != Py_None;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (st[i] == 0)
            continue;
        int equal = 0;
        if (st[i] == 2 && known) {
            if (bd[i] < 0 || bd[i + 1] > nrefs || bd[i] > bd[i + 1])
                goto bad;
            equal = 1;
            for (int64_t k = bd[i]; equal && k < bd[i + 1]; k++) {
                int64_t x = rf[2 * k], y = rf[2 * k + 1];
                if (x < 0 || y < 0 || x >= PyList_GET_SIZE(left) || y >= PyList_GET_SIZE(right))
                    goto bad;
                PyObject *a = PyList_GET_ITEM(left, x), *b = PyList_GET_ITEM(right, y);
                if (!PyUnicode_CheckExact(a) || !PyUnicode_CheckExact(b))
                    goto bad;
                equal = same_str(a, b);
            }
        }
        if (!equal) {
            PyObject *idx = PyLong_FromSsize_t(i);
            if (idx == NULL || PyList_Append(out, idx) < 0) {
                Py_XDECREF(idx);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(idx);
        }
    }
    return out;
bad:
    Py_DECREF(out);
bad_args:
    PyErr_SetString(PyExc_ValueError, "settle: inconsistent arguments");
    return NULL;
}

/* Account ids as one sorted array of 12-byte rows: a digit window is looked up without building a str */
typedef struct {
    char *ids;
    Py_ssize_t n;
} accounts_t;

static int
cmp12(const void *x, const void *y)
{
    return memcmp(x, y, 12);
}

/* 0, or -1 with an exception: `set` must hold str of 12 ASCII characters only (textscan.needles) */
static int
accounts_init(accounts_t *ac, PyObject *set)
{
    ac->n = 0;
    ac->ids = PyMem_Malloc(12 * (size_t)(PySet_GET_SIZE(set) + 1));
    if (ac->ids == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *it = PyObject_GetIter(set), *x;
    if (it == NULL)
        return -1;
    while ((x = PyIter_Next(it)) != NULL) {
        int ok = PyUnicode_CheckExact(x) && PyUnicode_IS_ASCII(x) && PyUnicode_GET_LENGTH(x) == 12;
        if (ok)
            memcpy(ac->ids + 12 * ac->n++, PyUnicode_1BYTE_DATA(x), 12);
        Py_DECREF(x);
        if (!ok) {
            Py_DECREF(it);
            PyErr_SetString(PyExc_ValueError, "holding: accounts must be 12-character strings");
            return -1;
        }
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return -1;
    qsort(ac->ids, (size_t)ac->n, 12, cmp12);
    return 0;
}

/* 1 when a 12-digit window of a run of digits in b is one of the accounts, else 0 */
static int
digit_windows_in(const unsigned char *b, Py_ssize_t n, const accounts_t *ac)
{
    Py_ssize_t i = 0;
    while (i < n) {
        if (b[i] < '0' || b[i] > '9') {
            i++;
            continue;
        }
        Py_ssize_t j = i;
        while (j < n && b[j] >= '0' && b[j] <= '9')
            j++;
        for (Py_ssize_t k = i; k + 12 <= j; k++)
            if (bsearch(b + k, ac->ids, (size_t)ac->n, 12, cmp12) != NULL)
                return 1;
        i = j;
    }
    return 0;
}

/* textscan._strings_hold: 1, 0, or -1 on error */
static int
strings_hold(PyObject *v, const needles_t *nd, const accounts_t *accounts, long d, long md)
{
    PyTypeObject *t = Py_TYPE(v);
    if (t == &PyUnicode_Type) {
        PyObject *tmp;
        const unsigned char *b;
        Py_ssize_t n;
        if (utf8_of(v, &tmp, &b, &n) < 0)
            return -1;
        int r = bytes_have(nd, b, n);
        if (r == 0 && accounts->n > 0)
            r = digit_windows_in(b, n, accounts);
        Py_XDECREF(tmp);
        return r;
    }
    if (d > md)
        return 1; /* deeper than parity reads: the caller's walk decides */
    if (t == &PyDict_Type) {
        prefetch_values(v);
        Py_ssize_t pos = 0;
        PyObject *k, *x;
        while (PyDict_Next(v, &pos, &k, &x)) {
            Py_INCREF(x);
            int r = strings_hold(x, nd, accounts, d + 1, md);
            Py_DECREF(x);
            if (r != 0)
                return r;
        }
        return 0;
    }
    if (t == &PyList_Type) {
        prefetch_items(v);
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); i++) {
            PyObject *x = PyList_GET_ITEM(v, i);
            Py_INCREF(x);
            int r = strings_hold(x, nd, accounts, d + 1, md);
            Py_DECREF(x);
            if (r != 0)
                return r;
        }
        return 0;
    }
    return 0;
}

/* holding(values, needles, accounts, max_depth) -> bytes: parity.compare.textscan.values_holding */
static PyObject *
py_holding(PyObject *self, PyObject *args)
{
    PyObject *values, *lits, *accounts;
    long md;
    if (!PyArg_ParseTuple(args, "O!OO!l:holding", &PyList_Type, &values, &lits, &PyFrozenSet_Type, &accounts, &md))
        return NULL;
    needles_t nd;
    accounts_t ac;
    if (needles_init(&nd, lits, "holding: needles") < 0)
        return NULL;
    if (accounts_init(&ac, accounts) < 0) {
        needles_free(&nd);
        PyMem_Free(ac.ids);
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(values);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (out == NULL) {
        needles_free(&nd);
        PyMem_Free(ac.ids);
        return NULL;
    }
    char *o = PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        prefetch_ahead(values, i); /* the next values, while this one is read */
        PyObject *v = PyList_GET_ITEM(values, i);
        Py_INCREF(v);
        int r = strings_hold(v, &nd, &ac, 0, md);
        Py_DECREF(v);
        if (r < 0) {
            needles_free(&nd);
            PyMem_Free(ac.ids);
            Py_DECREF(out);
            return NULL;
        }
        o[i] = (char)r;
    }
    needles_free(&nd);
    PyMem_Free(ac.ids);
    return out;
}


/* ------------------------------------------------------------------ splitting a JSON document (jsonitems) */

#define SPANS_MAX_DEPTH 1024 /* orjson's: a document nested deeper is refused whole, so it is never split */

static inline const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Past the closing quote of the string whose opening quote is at `p`; NULL when it is not closed */
static const unsigned char *
string_end(const unsigned char *p, const unsigned char *end)
{
    p++;
    for (;;) {
        const unsigned char *q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL)
            return NULL;
        /* a quote is escaped when an odd number of backslashes stands right before it */
        const unsigned char *b = q;
        while (b > p && b[-1] == '\\')
            b--;
        p = q + 1;
        if (((q - b) & 1) == 0)
            return p;
    }
}

/* The end of the one value starting at `p` (not whitespace), as far as brackets and strings go: the first
 * `,`, `]` or `}` outside strings at the value's own level, or `end`. NULL when a string is not closed, or
 * the nesting passes `depth_left`. Nothing else is checked (not even that brackets match in kind): the
 * caller parses the span, which is where the value is found valid or not. */
static const unsigned char *
value_end(const unsigned char *p, const unsigned char *end, long depth_left)
{
    long depth = 0;
    while (p < end) {
        unsigned char c = *p;
        if (c == '"') {
            if ((p = string_end(p, end)) == NULL)
                return NULL;
            continue;
        }
        if (c == '[' || c == '{') {
            if (++depth > depth_left)
                return NULL;
        }
        else if (c == ']' || c == '}') {
            if (depth == 0)
                return p;
            depth--;
        }
        else if (c == ',' && depth == 0)
            return p;
        p++;
    }
    return depth == 0 ? p : NULL;
}

/* Trailing whitespace is dropped from a span, so that each is exactly the value's text */
static inline const unsigned char *
trim_back(const unsigned char *start, const unsigned char *stop)
{
    while (stop > start && (stop[-1] == ' ' || stop[-1] == '\n' || stop[-1] == '\r' || stop[-1] == '\t'))
        stop--;
    return stop;
}

/* The members of the top-level array (`[`) or object (`{`) of `data`, as int64 offsets: start and end of
 * each item (array) or of each key and value (object: four per member). None when the document is not
 * one of that kind with that plain structure (whitespace, then the opening bracket, items each followed
 * by `,` or the closing bracket, then whitespace only), or when an item nests past orjson's limit with
 * the container itself at nesting `level` (1: the document's top). */
static PyObject *
py_spans(PyObject *self, PyObject *args)
{
    Py_buffer view;
    int open;
    Py_ssize_t level = 1;
    if (!PyArg_ParseTuple(args, "y*C|n:spans", &view, &open, &level))
        return NULL;
    if ((open != '[' && open != '{') || level < 1) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "spans: the kind is '[' or '{', the level 1 or more");
        return NULL;
    }
    if (level >= SPANS_MAX_DEPTH) {
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    const unsigned char *d = (const unsigned char *)view.buf, *end = d + view.len;
    const unsigned char close = open == '[' ? ']' : '}';
    Py_ssize_t cap = 64, n = 0;
    int64_t *out = PyMem_Malloc((size_t)cap * sizeof(int64_t));
    PyObject *result = NULL;
    if (out == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const unsigned char *p = skip_ws(d, end);
    if (p == end || *p != open)
        goto plain_none;
    p = skip_ws(p + 1, end);
    if (p < end && *p == close)
        goto closed;
    for (;;) {
        if (n + 4 > cap) {
            cap *= 2;
            int64_t *grown = PyMem_Realloc(out, (size_t)cap * sizeof(int64_t));
            if (grown == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            out = grown;
        }
        if (open == '{') { /* a key: one string, then a colon */
            if (p == end || *p != '"')
                goto plain_none;
            const unsigned char *k = string_end(p, end);
            if (k == NULL)
                goto plain_none;
            out[n++] = p - d;
            out[n++] = k - d;
            p = skip_ws(k, end);
            if (p == end || *p != ':')
                goto plain_none;
            p = skip_ws(p + 1, end);
        }
        if (p == end || *p == ',' || *p == ']' || *p == '}')
            goto plain_none; /* an empty item */
        const unsigned char *e = value_end(p, end, SPANS_MAX_DEPTH - (long)level);
        if (e == NULL || e == end)
            goto plain_none;
        out[n++] = p - d;
        out[n++] = trim_back(p, e) - d;
        if (*e == close) {
            p = e;
            break;
        }
        if (*e != ',')
            goto plain_none;
        p = skip_ws(e + 1, end);
    }
closed:
    if (skip_ws(p + 1, end) != end)
        goto plain_none;
    result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)(n * (Py_ssize_t)sizeof(int64_t)));
    goto done;
plain_none:
    result = Py_NewRef(Py_None);
done:
    PyMem_Free(out);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"walk", (PyCFunction)(void (*)(void))py_walk, METH_FASTCALL,
     "walk(value, rules) -> the canonical form of value under a RuleNode trie (or None)"},
    {"configure", py_configure, METH_VARARGS,
     "configure(nesting_error, json_in_text, dumps, sort_options, max_depth): what the walk calls"},
    {"redact_secret_keys", py_redact_secret_keys, METH_VARARGS,
     "redact_secret_keys(root, cache, is_secret, redact) -> bool: parity.redact.redact_secret_keys_in_place"},
    {"sub_generated_ids", py_sub_generated_ids, METH_VARARGS,
     "sub_generated_ids(data, prefixes) -> bytes: placeholders._AWS_ID.sub(b'-{id}', data)"},
    {"sub_arn_accounts", py_sub_arn_accounts, METH_VARARGS,
     "sub_arn_accounts(data, foreign_accounts) -> bytes: the ARN account pass of placeholders.Placeholders"},
    {"equal_parts", py_equal_parts, METH_VARARGS,
     "equal_parts(left, right, needles, max_depth): parity.compare.equal.equal_parts"},
    {"settle", py_settle, METH_VARARGS,
     "settle(status, refs, bounds, left, right) -> list[int]: parity.compare.equal.settle"},
    {"holding", py_holding, METH_VARARGS,
     "holding(values, needles, accounts, max_depth) -> bytes: parity.compare.textscan.values_holding"},
    {"spans", py_spans, METH_VARARGS,
     "spans(data, kind, level=1) -> bytes | None: int64 offsets of the items of a top-level array or object "
     "(parity.jsonitems)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "parity.normalize._cwalk",
    "The canonical walk in C (see parity.normalize.canonical, whose Python walk is the reference).", -1, methods,
};

#define INTERN(var, text)                                \
    do {                                                 \
        if ((var = PyUnicode_InternFromString(text)) == NULL) \
            return NULL;                                 \
    } while (0)

PyMODINIT_FUNC
PyInit__cwalk(void)
{
    INTERN(s_statement, "Statement");
    INTERN(s_keys, "keys");
    INTERN(s_any_key, "any_key");
    INTERN(s_items, "items");
    INTERN(s_drop, "drop");
    INTERN(s_default, "default");
    INTERN(s_unordered, "unordered");
    INTERN(s_child, "child");
    INTERN(s_action, "Action");
    INTERN(s_notaction, "NotAction");
    INTERN(s_resource, "Resource");
    INTERN(s_notresource, "NotResource");
    INTERN(s_principal, "Principal");
    INTERN(s_notprincipal, "NotPrincipal");
    INTERN(s_condition, "Condition");
    INTERN(s_aws, "AWS");
    INTERN(s_star, "*");
    PyObject *option = PyUnicode_InternFromString("option"); /* orjson matches keyword names by identity */
    if (option == NULL || (dumps_kwnames = PyTuple_Pack(1, option)) == NULL)
        return NULL;
    Py_DECREF(option);
    if ((empty_tuple = PyTuple_New(0)) == NULL)
        return NULL;
    return PyModule_Create(&module);
}
