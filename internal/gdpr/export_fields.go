package gdpr

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// What an export carries is the data map's Export column and nothing else (R-RIGHTS-1): a
// stored document is encoded as it is stored, and its JSON walked, keeping exactly the paths
// the map marks exported. A field added to a stored type is exported only once the map says
// so; the map's tests fail until it classifies it.

// exportTree is the set of exported paths of one table as a tree of path segments: a leaf
// keeps everything below it (a path may name an object), an array segment ("sales[]")
// applies its subtree to each element.
type exportTree struct {
	all      bool
	children map[string]*exportTree
}

// exportedPaths returns the tree of the paths table kind marks Export.
func exportedPaths(kind string) *exportTree {
	root := &exportTree{children: map[string]*exportTree{}}
	for _, t := range DataMap() {
		if t.Kind != kind {
			continue
		}
		for _, f := range t.Fields {
			if !f.Export {
				continue
			}
			n := root
			for seg := range strings.SplitSeq(f.Path, ".") {
				seg = strings.TrimSuffix(seg, "[]")
				next := n.children[seg]
				if next == nil {
					next = &exportTree{children: map[string]*exportTree{}}
					n.children[seg] = next
				}
				n = next
			}
			n.all = true
		}
	}
	return root
}

// keep is v with only the tree's paths.
func (t *exportTree) keep(v any) any {
	if t.all {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t.children))
		for k, child := range t.children {
			if cv, ok := x[k]; ok {
				out[k] = child.keep(cv)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = t.keep(e)
		}
		return out
	}
	return nil // a scalar where the map expects an object: carry nothing rather than guess
}

// exportDoc is doc as stored, with only the fields tree exports.
func exportDoc(doc any, tree *exportTree) (map[string]any, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	out, _ := tree.keep(m).(map[string]any)
	return out, nil
}

// flatten lists a document's scalar values by dotted path, in path order; arrays of
// scalars are joined with "; ", arrays of objects are left to their own CSV (skip).
func flatten(doc map[string]any, skip ...string) [][2]string {
	var out [][2]string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if slices.Contains(skip, prefix) {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x[k])
			}
		case []any:
			parts := make([]string, 0, len(x))
			for _, e := range x {
				if _, isObj := e.(map[string]any); isObj {
					return
				}
				parts = append(parts, scalar(e))
			}
			out = append(out, [2]string{prefix, strings.Join(parts, "; ")})
		default:
			out = append(out, [2]string{prefix, scalar(x)})
		}
	}
	walk("", doc)
	return out
}

func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// exportedColumns are the CSV columns of a table's exported scalar paths, in the map's order;
// array paths ("sales[]…") are left to their own CSV.
func exportedColumns(kind string) []string {
	var cols []string
	for _, t := range DataMap() {
		if t.Kind != kind {
			continue
		}
		for _, f := range t.Fields {
			if f.Export && !strings.Contains(f.Path, "[]") {
				cols = append(cols, f.Path)
			}
		}
	}
	return cols
}
