/* The matcher's master pass in C: optional, same answers as the pure-Python path.
 *
 * qualtrace.matcher scans a lower-cased text with the regex `\W(?=(ALT))`, ALT being a
 * trie-shaped alternation of every plain term, then files each match under the keys of the terms
 * it holds (KeyedTerms.collect). Python's regex engine and the per-match Python loop were most of
 * the coding stage's time. This module walks the same trie in the order the regex engine tries
 * it, so it finds the same match at every word start, and files the matches in the same order.
 *
 * The regex, and so this walk (Matcher.build writes both from one trie):
 *   - a candidate is every non-word character at q (pos <= q < end); the walk starts at q + 1;
 *   - at a trie node the edges are tried in order: literal characters, then a separator run
 *     [\s\-\u2010\u2013\u2014/]+, then an apostrophe ['\u2019], then a wildcard \w*, then the
 *     end of a term, (?!\w); runs are greedy and give back one character at a time, as the
 *     regex engine backtracks;
 *   - `end` is where the text stops (the regex's endpos), for every test above.
 * Word and space characters are the regex engine's own (Unicode) definitions:
 *   \w: Py_UNICODE_ISALNUM(ch) || ch == '_';  \s: Py_UNICODE_ISSPACE(ch).
 * tests/test_masterpass.py checks this module against the regexes on random text.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

enum { EDGE_CHAR = 0, EDGE_SEP = 1, EDGE_APOS = 2, EDGE_WILD = 3 };

typedef struct {
    int kind;
    Py_UCS4 ch;
    Py_ssize_t child;
} Edge;

typedef struct {
    Py_ssize_t first, count;  /* edges[first:first + count], in the order they are tried */
    Py_ssize_t n_chars;       /* the first n_chars of them: literal characters, by code point */
    Py_ssize_t table;         /* ASCII table of a node with many literals (tables[table]), or -1 */
    int terminal;
} Node;

#define TABLE_FROM 6  /* literals from which a node gets a table */

typedef struct {
    PyObject_HEAD
    Node *nodes;
    Edge *edges;
    Py_ssize_t n_nodes;
    Py_ssize_t (*tables)[128];  /* child by ASCII character, -1 for none */
} Trie;

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t end;
} Text;

/* ASCII answers from a table, made once from the same definitions (init_ascii). */
static unsigned char ascii_word[128], ascii_sep[128];

static inline int is_word_slow(Py_UCS4 ch) { return Py_UNICODE_ISALNUM(ch) || ch == '_'; }

static inline int is_sep_slow(Py_UCS4 ch) {
    return Py_UNICODE_ISSPACE(ch) || ch == '-' || ch == 0x2010 || ch == 0x2013 ||
           ch == 0x2014 || ch == '/';
}

static inline int is_word(Py_UCS4 ch) { return ch < 128 ? ascii_word[ch] : is_word_slow(ch); }

static inline int is_sep(Py_UCS4 ch) { return ch < 128 ? ascii_sep[ch] : is_sep_slow(ch); }

static void init_ascii(void) {
    for (Py_UCS4 ch = 0; ch < 128; ch++) {
        ascii_word[ch] = (unsigned char)is_word_slow(ch);
        ascii_sep[ch] = (unsigned char)is_sep_slow(ch);
    }
}

static inline int is_apos(Py_UCS4 ch) { return ch == '\'' || ch == 0x2019; }

#define AT(t, i) PyUnicode_READ((t)->kind, (t)->data, (i))

/* The child reached from a node by the literal edge for character ch, or -1. Only that edge
 * of the node's literals can match at a position (they are distinct characters). */
static inline Py_ssize_t literal_child(const Trie *trie, const Node *node, const Edge *edges,
                                       Py_UCS4 ch) {
    if (node->n_chars == 1)
        return edges[0].ch == ch ? edges[0].child : -1;
    if (node->table >= 0 && ch < 128)
        return trie->tables[node->table][ch];
    Py_ssize_t lo = 0, hi = node->n_chars;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (edges[mid].ch < ch)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < node->n_chars && edges[lo].ch == ch ? edges[lo].child : -1;
}

/* Where the first path of the trie that matches at i ends, or -1: a depth-first walk, edges in
 * the order the regex tries them (its backtracking). */
static Py_ssize_t walk(const Trie *trie, Py_ssize_t node_index, const Text *t, Py_ssize_t i) {
    for (;;) {
        const Node *node = &trie->nodes[node_index];
        const Edge *edges = &trie->edges[node->first];
        Py_ssize_t next = node->n_chars && i < t->end ? literal_child(trie, node, edges, AT(t, i))
                                                        : -1;
        if (node->n_chars == node->count && !node->terminal) {
            if (next < 0)  /* only literal edges here: nothing else to try */
                return -1;
            node_index = next;  /* and the walk goes on from the child alone */
            i++;
            continue;
        }
        Py_ssize_t found;
        if (next >= 0) {
            found = walk(trie, next, t, i + 1);
            if (found >= 0)
                return found;
        }
        const Edge *edge = edges + node->n_chars;
        for (Py_ssize_t e = node->n_chars; e < node->count; e++, edge++) {
            switch (edge->kind) {
            case EDGE_APOS:
                if (i < t->end && is_apos(AT(t, i))) {
                    found = walk(trie, edge->child, t, i + 1);
                    if (found >= 0)
                        return found;
                }
                break;
            case EDGE_SEP:
            case EDGE_WILD: {
                Py_ssize_t j = i;
                if (edge->kind == EDGE_SEP) {
                    while (j < t->end && is_sep(AT(t, j)))
                        j++;
                } else {
                    while (j < t->end && is_word(AT(t, j)))
                        j++;
                }
                Py_ssize_t least = edge->kind == EDGE_SEP ? i + 1 : i; /* `+` or `*` */
                for (; j >= least; j--) {
                    found = walk(trie, edge->child, t, j);
                    if (found >= 0)
                        return found;
                }
                break;
            }
            }
        }
        if (node->terminal && (i >= t->end || !is_word(AT(t, i))))
            return i;
        return -1;
    }
}

static int text_of(PyObject *low, Py_ssize_t end, Text *t) {
    if (!PyUnicode_Check(low)) {
        PyErr_SetString(PyExc_TypeError, "the text must be a str");
        return -1;
    }
    if (PyUnicode_READY(low) < 0)
        return -1;
    t->kind = PyUnicode_KIND(low);
    t->data = PyUnicode_DATA(low);
    t->end = end < PyUnicode_GET_LENGTH(low) ? end : PyUnicode_GET_LENGTH(low);
    return 0;
}

/* Append (q, q + n) under each key of pairs ((key, n), ...) in out. Pairs come ordered by n,
 * and keys of one length share one span (a tuple: the lists never change it). */
static int file_pairs(PyObject *pairs, Py_ssize_t q, PyObject *out) {
    Py_ssize_t count = PyTuple_GET_SIZE(pairs), last_n = -1;
    PyObject *span = NULL;
    int failed = 0;
    for (Py_ssize_t k = 0; k < count && !failed; k++) {
        PyObject *pair = PyTuple_GET_ITEM(pairs, k);
        PyObject *key = PyTuple_GET_ITEM(pair, 0);
        Py_ssize_t n = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 1));
        if (n == -1 && PyErr_Occurred()) {
            failed = -1;
            break;
        }
        if (span == NULL || n != last_n) {
            Py_XDECREF(span);
            span = Py_BuildValue("(nn)", q, q + n);
            last_n = n;
            if (span == NULL) {
                failed = -1;
                break;
            }
        }
        PyObject *spans = PyDict_GetItemWithError(out, key);  /* borrowed */
        if (spans != NULL) {
            failed = PyList_Append(spans, span);
        } else if (PyErr_Occurred()) {
            failed = -1;
        } else {
            PyObject *fresh = PyList_New(1);
            if (fresh == NULL) {
                failed = -1;
                break;
            }
            Py_INCREF(span);
            PyList_SET_ITEM(fresh, 0, span);
            failed = PyDict_SetItem(out, key, fresh);
            Py_DECREF(fresh);
        }
    }
    Py_XDECREF(span);
    return failed < 0 ? -1 : 0;
}

/* The master pass's next match: the candidates are the non-word characters from *p on (the
 * walk starting after each); sets *p to where the match starts and returns where it ends, or
 * -1 when no match is left. Called again with that *p, it goes on with the next candidate (the
 * match's first character is a word character, never a candidate). */
static Py_ssize_t next_match(const Trie *trie, const Text *t, Py_ssize_t *p) {
    for (Py_ssize_t q = *p; q < t->end; q++) {
        if (is_word(AT(t, q)))
            continue;
        Py_ssize_t stop = walk(trie, 0, t, q + 1);
        if (stop >= 0) {
            *p = q + 1;
            return stop;
        }
    }
    return -1;
}

static PyObject *Trie_file(Trie *self, PyObject *args) {
    PyObject *low, *cache, *out;
    Py_ssize_t pos, end, base;
    if (!PyArg_ParseTuple(args, "UnnnO!O!:file", &low, &pos, &end, &base, &PyDict_Type, &cache,
                          &PyDict_Type, &out))
        return NULL;
    Text t;
    if (text_of(low, end, &t) < 0)
        return NULL;
    PyObject *rare = PyList_New(0);
    if (rare == NULL)
        return NULL;
    Py_ssize_t p = pos < 0 ? 0 : pos, stop;
    while ((stop = next_match(self, &t, &p)) >= 0) {
        PyObject *m = PyUnicode_Substring(low, p, stop);
        if (m == NULL)
            goto fail;
        PyObject *pairs = PyDict_GetItemWithError(cache, m);  /* borrowed */
        if (pairs == NULL && PyErr_Occurred()) {
            Py_DECREF(m);
            goto fail;
        }
        if (pairs == NULL || !PyTuple_Check(pairs)) {  /* new, or a term may run past it */
            PyObject *item = Py_BuildValue("(nN)", p, m);
            if (item == NULL || PyList_Append(rare, item) < 0) {
                Py_XDECREF(item);
                goto fail;
            }
            Py_DECREF(item);
            continue;
        }
        Py_DECREF(m);
        if (file_pairs(pairs, p - base, out) < 0)
            goto fail;
    }
    return rare;
fail:
    Py_DECREF(rare);
    return NULL;
}

static PyObject *Trie_matches(Trie *self, PyObject *args) {
    PyObject *low;
    Py_ssize_t pos, end;
    if (!PyArg_ParseTuple(args, "Unn:matches", &low, &pos, &end))
        return NULL;
    Text t;
    if (text_of(low, end, &t) < 0)
        return NULL;
    PyObject *found = PyList_New(0);
    if (found == NULL)
        return NULL;
    Py_ssize_t p = pos < 0 ? 0 : pos, stop;
    while ((stop = next_match(self, &t, &p)) >= 0) {
        PyObject *item = Py_BuildValue("(nN)", p, PyUnicode_Substring(low, p, stop));
        if (item == NULL || PyList_Append(found, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(found);
            return NULL;
        }
        Py_DECREF(item);
    }
    return found;
}

static void Trie_dealloc(Trie *self) {
    PyMem_Free(self->nodes);
    PyMem_Free(self->edges);
    PyMem_Free(self->tables);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Trie(nodes): nodes[i] = (terminal, ((kind, codepoint, child), ...)), edges in the order the
 * regex tries them; node 0 is the root. */
static int Trie_init(Trie *self, PyObject *args, PyObject *kwds) {
    (void)kwds;
    PyObject *nodes;
    if (!PyArg_ParseTuple(args, "O!:Trie", &PyList_Type, &nodes))
        return -1;
    Py_ssize_t n = PyList_GET_SIZE(nodes), n_edges = 0;
    if (n == 0) {
        PyErr_SetString(PyExc_ValueError, "a trie needs a root");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *node = PyList_GET_ITEM(nodes, i);
        if (!PyTuple_Check(node) || PyTuple_GET_SIZE(node) != 2 ||
            !PyTuple_Check(PyTuple_GET_ITEM(node, 1))) {
            PyErr_SetString(PyExc_TypeError, "a node is (terminal, edges)");
            return -1;
        }
        n_edges += PyTuple_GET_SIZE(PyTuple_GET_ITEM(node, 1));
    }
    PyMem_Free(self->nodes);
    PyMem_Free(self->edges);
    PyMem_Free(self->tables);
    self->tables = NULL;
    self->nodes = PyMem_Calloc(n, sizeof(Node));
    self->edges = PyMem_Calloc(n_edges ? n_edges : 1, sizeof(Edge));
    if (self->nodes == NULL || self->edges == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->n_nodes = n;
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *node = PyList_GET_ITEM(nodes, i);
        PyObject *edges = PyTuple_GET_ITEM(node, 1);
        int terminal = PyObject_IsTrue(PyTuple_GET_ITEM(node, 0));
        if (terminal < 0)
            return -1;
        self->nodes[i].terminal = terminal;
        self->nodes[i].first = at;
        self->nodes[i].count = PyTuple_GET_SIZE(edges);
        for (Py_ssize_t e = 0; e < PyTuple_GET_SIZE(edges); e++, at++) {
            int kind;
            unsigned long ch;
            Py_ssize_t child;
            if (!PyArg_ParseTuple(PyTuple_GET_ITEM(edges, e), "ikn", &kind, &ch, &child))
                return -1;
            if (kind < EDGE_CHAR || kind > EDGE_WILD || child <= i || child >= n ||
                ch > 0x10FFFF) {
                PyErr_Format(PyExc_ValueError, "bad edge %zd of node %zd", e, i);
                return -1;
            }
            if (kind == EDGE_CHAR) {
                if (e != self->nodes[i].n_chars ||
                    (e > 0 && self->edges[at - 1].ch >= (Py_UCS4)ch)) {
                    PyErr_Format(PyExc_ValueError,
                                 "node %zd: literal edges must come first, by code point", i);
                    return -1;
                }
                self->nodes[i].n_chars++;
            }
            self->edges[at].kind = kind;
            self->edges[at].ch = (Py_UCS4)ch;
            self->edges[at].child = child;
        }
    }
    Py_ssize_t n_tables = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        n_tables += self->nodes[i].n_chars >= TABLE_FROM;
    self->tables = PyMem_Malloc((n_tables ? n_tables : 1) * sizeof(*self->tables));
    if (self->tables == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t made = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Node *node = &self->nodes[i];
        node->table = -1;
        if (node->n_chars < TABLE_FROM)
            continue;
        node->table = made++;
        for (int ch = 0; ch < 128; ch++)
            self->tables[node->table][ch] = -1;
        for (Py_ssize_t e = 0; e < node->n_chars; e++) {
            const Edge *edge = &self->edges[node->first + e];
            if (edge->ch < 128)
                self->tables[node->table][edge->ch] = edge->child;
        }
    }
    return 0;
}

static PyMethodDef Trie_methods[] = {
    {"file", (PyCFunction)Trie_file, METH_VARARGS,
     "file(low, pos, end, base, cache, out) -> rare\n\n"
     "The master pass over low[pos:end] (as `finditer(low, pos, end)`), each match m at p filed\n"
     "under cache[m]: (key, n) pairs, as out[key].append((p - base, p - base + n)). Matches\n"
     "with no tuple in cache come back as [(p, m), ...], in text order, for the caller."},
    {"matches", (PyCFunction)Trie_matches, METH_VARARGS,
     "matches(low, pos, end) -> [(p, m), ...]: every master match in low[pos:end]."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject TrieType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "qualtrace._masterpass.Trie",
    .tp_basicsize = sizeof(Trie),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The plain terms' trie, walked as the master-pass regex tries it.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Trie_init,
    .tp_dealloc = (destructor)Trie_dealloc,
    .tp_methods = Trie_methods,
};

/* ------------------------------------------------------------------ helpers of the rules
 * Small scans the coding engine makes many times per unit, each the same answer as the regex
 * named (qualtrace.coding keeps those regexes as the fallback). */

static inline int is_closer(Py_UCS4 ch) {
    return ch == '"' || ch == '\'' || ch == 0x201d || ch == 0x2019 || ch == ')' || ch == ']';
}

static inline int is_opener(Py_UCS4 ch) {
    return ch == '"' || ch == '\'' || ch == 0x201c || ch == 0x2018 || ch == '(' || ch == '[';
}

/* breaks(text): where the matches of qualtrace.coding._SENTENCE_BREAK start,
 *   [.!?\u2026]["'\u201d\u2019)\]]*\s+(?=["'\u201c\u2018(\[]?[A-Z0-9])
 * Every part is greedy and what follows it cannot be what it gave back, so a break starts at a
 * stop mark exactly when the greedy reading matches; a match holds no other stop mark, so
 * finditer lists every such position. */
static PyObject *sentence_breaks(PyObject *module, PyObject *arg) {
    (void)module;
    Text t;
    if (text_of(arg, PY_SSIZE_T_MAX, &t) < 0)
        return NULL;
    PyObject *found = PyList_New(0);
    if (found == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < t.end; i++) {
        Py_UCS4 ch = AT(&t, i);
        if (ch != '.' && ch != '!' && ch != '?' && ch != 0x2026)
            continue;
        Py_ssize_t j = i + 1;
        while (j < t.end && is_closer(AT(&t, j)))
            j++;
        Py_ssize_t space = j;
        while (j < t.end && Py_UNICODE_ISSPACE(AT(&t, j)))
            j++;
        if (j == space || j >= t.end)
            continue;
        Py_UCS4 next = AT(&t, j);
        if (is_opener(next)) {
            if (j + 1 >= t.end)
                continue;
            next = AT(&t, j + 1);
        }
        if (!((next >= 'A' && next <= 'Z') || (next >= '0' && next <= '9')))
            continue;
        PyObject *at = PyLong_FromSsize_t(i);
        if (at == NULL || PyList_Append(found, at) < 0) {
            Py_XDECREF(at);
            Py_DECREF(found);
            return NULL;
        }
        Py_DECREF(at);
    }
    return found;
}

/* holds_any(text, chars): does text hold any character of chars (sorted by code point)? */
static PyObject *holds_any(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *text, *chars;
    if (!PyArg_ParseTuple(args, "UU:holds_any", &text, &chars))
        return NULL;
    Text t, c;
    if (text_of(text, PY_SSIZE_T_MAX, &t) < 0 || text_of(chars, PY_SSIZE_T_MAX, &c) < 0)
        return NULL;
    for (Py_ssize_t k = 1; k < c.end; k++) {
        if (AT(&c, k - 1) >= AT(&c, k)) {
            PyErr_SetString(PyExc_ValueError, "holds_any: chars must be sorted, each once");
            return NULL;
        }
    }
    unsigned char ascii[128] = {0};
    for (Py_ssize_t k = 0; k < c.end; k++)
        if (AT(&c, k) < 128)
            ascii[AT(&c, k)] = 1;
    for (Py_ssize_t i = 0; i < t.end; i++) {
        Py_UCS4 ch = AT(&t, i);
        if (ch < 128) {
            if (ascii[ch])
                Py_RETURN_TRUE;
            continue;
        }
        Py_ssize_t lo = 0, hi = c.end;  /* chars are sorted */
        while (lo < hi) {
            Py_ssize_t mid = (lo + hi) / 2;
            if (AT(&c, mid) < ch)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < c.end && AT(&c, lo) == ch)
            Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

/* ------------------------------------------------------------------ proximity pairs */

typedef struct {
    Py_ssize_t s, e;
} Span;

/* A list of (start, end) tuples as a C array (PyMem_Free it), or NULL with an error set. */
static Span *spans_of(PyObject *list, Py_ssize_t *n) {
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "pair: spans must be a list");
        return NULL;
    }
    *n = PyList_GET_SIZE(list);
    Span *out = PyMem_Malloc((*n ? *n : 1) * sizeof(Span));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *n; i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyMem_Free(out);
            PyErr_SetString(PyExc_TypeError, "pair: a span is a (start, end) tuple");
            return NULL;
        }
        out[i].s = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0));
        out[i].e = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 1));
        if ((out[i].s == -1 || out[i].e == -1) && PyErr_Occurred()) {
            PyMem_Free(out);
            return NULL;
        }
    }
    return out;
}

static int holds_stop(const Text *t, Py_ssize_t lo, Py_ssize_t hi) {
    for (Py_ssize_t i = lo < 0 ? 0 : lo; i < hi && i < t->end; i++) {
        Py_UCS4 ch = AT(t, i);
        if (ch == '.' || ch == '!' || ch == '?' || ch == 0x2026)
            return 1;
    }
    return 0;
}

static Py_ssize_t words_between(const Text *t, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t limit) {
    Py_ssize_t n = 0;
    int in_word = 0;
    for (Py_ssize_t i = lo < 0 ? 0 : lo; i < hi && i < t->end && n <= limit; i++) {
        int w = is_word(AT(t, i));
        if (w && !in_word)
            n++;
        in_word = w;
    }
    return n;
}

/* unit.breaks_between(lo, hi): a sentence break starting in [lo, hi)? The unit's breaks are
 * listed once, in its `_breaks` (as qualtrace.coding._Unit does). 1, 0, or -1 on error. */
static int breaks_between(PyObject *unit, PyObject *text, Py_ssize_t lo, Py_ssize_t hi) {
    PyObject *breaks = PyObject_GetAttrString(unit, "_breaks");
    if (breaks == NULL)
        return -1;
    if (breaks == Py_None) {
        Py_DECREF(breaks);
        breaks = sentence_breaks(NULL, text);
        if (breaks == NULL || PyObject_SetAttrString(unit, "_breaks", breaks) < 0) {
            Py_XDECREF(breaks);
            return -1;
        }
    }
    if (!PyList_Check(breaks)) {
        Py_DECREF(breaks);
        PyErr_SetString(PyExc_TypeError, "pair: unit._breaks must be a list");
        return -1;
    }
    Py_ssize_t a = 0, b = PyList_GET_SIZE(breaks);  /* bisect_left(breaks, lo) */
    while (a < b) {
        Py_ssize_t mid = (a + b) / 2;
        Py_ssize_t at = PyLong_AsSsize_t(PyList_GET_ITEM(breaks, mid));
        if (at == -1 && PyErr_Occurred()) {
            Py_DECREF(breaks);
            return -1;
        }
        if (at < lo)
            a = mid + 1;
        else
            b = mid;
    }
    int found = 0;
    if (a < PyList_GET_SIZE(breaks)) {
        Py_ssize_t at = PyLong_AsSsize_t(PyList_GET_ITEM(breaks, a));
        if (at == -1 && PyErr_Occurred()) {
            Py_DECREF(breaks);
            return -1;
        }
        found = at < hi;
    }
    Py_DECREF(breaks);
    return found;
}

/* pair(a, b, text, within, same_sentence, a_first, unit) -> (start, end) or None:
 * qualtrace.coding._pair's search for the earliest proximity pair, on the sorted spans of both
 * groups (vetoes already taken out). */
static PyObject *pair_search(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *a_list, *b_list, *text, *unit;
    Py_ssize_t within;
    int same, a_first;
    if (!PyArg_ParseTuple(args, "OOUnppO:pair", &a_list, &b_list, &text, &within, &same,
                          &a_first, &unit))
        return NULL;
    Text t;
    if (text_of(text, PY_SSIZE_T_MAX, &t) < 0)
        return NULL;
    Py_ssize_t na, nb;
    Span *a = spans_of(a_list, &na);
    if (a == NULL)
        return NULL;
    Span *b = spans_of(b_list, &nb);
    if (b == NULL) {
        PyMem_Free(a);
        return NULL;
    }
    Py_ssize_t lim = 2 * within, best_s = -1, best_e = -1;
    int failed = 0;
    for (int round = 0; round < (a_first ? 1 : 2) && !failed; round++) {
        const Span *firsts = round == 0 ? a : b, *other = round == 0 ? b : a;
        Py_ssize_t nf = round == 0 ? na : nb, n = round == 0 ? nb : na;
        for (Py_ssize_t f = 0; f < nf && !failed; f++) {
            Py_ssize_t s1 = firsts[f].s, e1 = firsts[f].e;
            if (best_s >= 0 && s1 > best_s)
                break;
            Py_ssize_t end = best_s == s1 ? best_e : -1, k = 0;
            while (k < n && other[k].s < e1)  /* partners start at or after e1 */
                k++;
            for (; k < n; k++) {
                Py_ssize_t s2 = other[k].s, e2 = other[k].e;
                if (end >= 0 && s2 >= end)
                    break;
                if (same && holds_stop(&t, e1, s2)) {
                    int found = breaks_between(unit, text, e1, s2);
                    if (found < 0) {
                        failed = 1;
                        break;
                    }
                    if (found)
                        break;
                }
                if (s2 - e1 >= lim && words_between(&t, e1, s2, within) > within)
                    break;
                if (end < 0 || e2 < end)
                    end = e2;
            }
            if (end >= 0) {
                best_s = s1;
                best_e = end;
            }
        }
    }
    PyMem_Free(a);
    PyMem_Free(b);
    if (failed)
        return NULL;
    if (best_s < 0)
        Py_RETURN_NONE;
    return Py_BuildValue("(nn)", best_s, best_e);
}

/* mask(keys): sum(1 << k for k in keys), keys being small non-negative ints (a dict's). */
static PyObject *mask_of(PyObject *module, PyObject *keys) {
    (void)module;
    uint64_t words[64] = {0};  /* keys below 4096 */
    Py_ssize_t top = -1;
    PyObject *it = PyObject_GetIter(keys), *item;
    if (it == NULL)
        return NULL;
    while ((item = PyIter_Next(it)) != NULL) {
        Py_ssize_t k = PyLong_AsSsize_t(item);
        Py_DECREF(item);
        if (k == -1 && PyErr_Occurred())
            break;
        if (k < 0 || k >= 64 * 64) {
            PyErr_Format(PyExc_ValueError, "mask: key %zd out of range", k);
            break;
        }
        words[k / 64] |= (uint64_t)1 << (k % 64);
        if (k / 64 > top)
            top = k / 64;
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return NULL;
    PyObject *mask = PyLong_FromUnsignedLongLong(0);
    for (Py_ssize_t w = top; w >= 0 && mask != NULL; w--) {  /* mask = mask << 64 | words[w] */
        PyObject *shift = PyLong_FromLong(64), *part = PyLong_FromUnsignedLongLong(words[w]);
        PyObject *moved = shift ? PyNumber_Lshift(mask, shift) : NULL;
        PyObject *next = moved && part ? PyNumber_Or(moved, part) : NULL;
        Py_XDECREF(shift);
        Py_XDECREF(part);
        Py_XDECREF(moved);
        Py_DECREF(mask);
        mask = next;
    }
    return mask;
}

static PyMethodDef module_methods[] = {
    {"mask", mask_of, METH_O, "mask(keys) -> sum(1 << k for k in keys)"},
    {"pair", pair_search, METH_VARARGS,
     "pair(a, b, text, within, same_sentence, a_first, unit) -> (start, end) or None: the\n"
     "earliest proximity pair (qualtrace.coding._pair, vetoes already taken out)"},
    {"breaks", sentence_breaks, METH_O, "breaks(text) -> where sentence breaks start"},
    {"holds_any", holds_any, METH_VARARGS,
     "holds_any(text, chars) -> does text hold a character of chars"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "qualtrace._masterpass",
    .m_doc = "The matcher's master pass in C (see qualtrace.matcher).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__masterpass(void) {
    init_ascii();
    if (PyType_Ready(&TrieType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&TrieType);
    if (PyModule_AddObject(m, "Trie", (PyObject *)&TrieType) < 0) {
        Py_DECREF(&TrieType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
