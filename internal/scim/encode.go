package scim

import "strings"

// MarshalJSON renders the full User resource, as JSON(nil, nil) does.
func (u User) MarshalJSON() ([]byte, error) { return u.JSON(nil, nil) }

// JSON renders the User resource with the attribute projection of RFC 7644 §3.9 (query
// parameters "attributes" and "excludedAttributes", or the same members of a SearchRequest,
// §3.4.3). Names are attribute paths in any case, optionally URN-qualified, with at most one
// sub-attribute: "userName", "name.givenName", "emails.value",
// "urn:ietf:params:scim:schemas:core:2.0:User:displayName".
//
//   - With attributes, only those (and their sub-attributes) are returned, plus schemas, id
//     and meta, which are always returned.
//   - With excludedAttributes, everything else is returned; schemas, id and meta cannot be
//     excluded (the RFC says "SHALL have no effect" on attributes returned "always").
//   - With both, attributes selects and excludedAttributes then removes.
//
// Names this service does not know or keep are ignored, as are malformed ones: projection
// can only narrow a response, so there is nothing to refuse. "meta.version" is the weak ETag
// of Meta.Version (RFC 7644 §3.14).
func (u User) JSON(attributes, excludedAttributes []string) ([]byte, error) {
	o := u.object()
	if len(attributes) > 0 || len(excludedAttributes) > 0 {
		o = project(o, selection(attributes), selection(excludedAttributes), len(attributes) > 0)
	}
	return o.appendJSON(make([]byte, 0, 512)), nil
}

var (
	defSchemas    = topLevel("schemas")
	defID         = topLevel("id")
	defExternalID = topLevel("externalId")
	defMeta       = topLevel("meta")
	defName       = topLevel("name")
	defEmails     = topLevel("emails")
	defAddresses  = topLevel("addresses")
	defActive     = topLevel("active")
)

// object is the full resource in the attribute order of RFC 7643 §8.2.
func (u User) object() jobj {
	o := jobj{{defSchemas, []string{URNUser}}}
	o = addStr(o, defID, u.ID)
	o = addStr(o, defExternalID, u.ExternalID)
	o = addStr(o, topLevel("userName"), u.UserName)
	if n := elemObject(defName, &u.Name); len(n) > 0 {
		o = append(o, jfield{defName, n})
	}
	o = addStr(o, topLevel("displayName"), u.DisplayName)
	o = addStr(o, topLevel("nickName"), u.NickName)
	o = addStr(o, topLevel("title"), u.Title)
	o = addStr(o, topLevel("preferredLanguage"), u.PreferredLanguage)
	if u.Active != nil {
		o = append(o, jfield{defActive, *u.Active})
	}
	if len(u.Emails) > 0 {
		o = append(o, jfield{defEmails, listObjects(defEmails, u.Emails)})
	}
	if len(u.Addresses) > 0 {
		o = append(o, jfield{defAddresses, listObjects(defAddresses, u.Addresses)})
	}
	meta := jobj{{defMeta.child("resourceType"), "User"}}
	if !u.Meta.Created.IsZero() {
		meta = append(meta, jfield{defMeta.child("created"), formatTime(u.Meta.Created)})
	}
	if !u.Meta.LastModified.IsZero() {
		meta = append(meta, jfield{defMeta.child("lastModified"), formatTime(u.Meta.LastModified)})
	}
	meta = addStr(meta, defMeta.child("location"), u.Meta.Location)
	if u.Meta.Version != "" {
		meta = append(meta, jfield{defMeta.child("version"), ETag(u.Meta.Version)})
	}
	return append(o, jfield{defMeta, meta})
}

func addStr(o jobj, d *attrDef, s string) jobj {
	if s == "" {
		return o
	}
	return append(o, jfield{d, s})
}

// elemObject renders a complex value's kept sub-attributes in schema order; a false primary
// is left out, as unassigned (RFC 7643 §2.4).
func elemObject[T elem, P elemPtr[T]](d *attrDef, e P) jobj {
	var o jobj
	for _, s := range d.sub {
		if !s.supported() {
			continue
		}
		if p := e.str(s.id); p != nil && *p != "" {
			o = append(o, jfield{s, *p})
		} else if p := e.flag(s.id); p != nil && *p {
			o = append(o, jfield{s, true})
		}
	}
	return o
}

func listObjects[T elem, P elemPtr[T]](d *attrDef, list []T) []jobj {
	out := make([]jobj, 0, len(list))
	for i := range list {
		out = append(out, elemObject[T, P](d, &list[i]))
	}
	return out
}

// sel is a parsed attribute list: for each top-level attribute, either the whole of it
// (subs == nil) or some of its sub-attributes.
type sel map[*attrDef]map[*attrDef]bool

func selection(names []string) sel {
	s := sel{}
	for _, n := range names {
		ref, e := resolveAttrPath(strings.TrimSpace(n))
		if e != resolveOK || ref.ext {
			continue
		}
		subs, seen := s[ref.top]
		switch {
		case ref.sub == nil:
			s[ref.top] = nil
		case !seen:
			s[ref.top] = map[*attrDef]bool{ref.sub: true}
		case subs != nil:
			subs[ref.sub] = true
		}
	}
	return s
}

func (s sel) has(top *attrDef) bool { _, ok := s[top]; return ok }

// project applies RFC 7644 §3.9 to a rendered resource.
func project(o jobj, include, exclude sel, restrict bool) jobj {
	out := make(jobj, 0, len(o))
	for _, f := range o {
		if f.def.returned == returnedAlways {
			out = append(out, f)
			continue
		}
		if restrict && !include.has(f.def) {
			continue
		}
		if restrict && include[f.def] != nil {
			if f = keepSubs(f, func(s *attrDef) bool { return include[f.def][s] }); f.val == nil {
				continue
			}
		}
		if exclude.has(f.def) {
			if exclude[f.def] == nil {
				continue
			}
			if f = keepSubs(f, func(s *attrDef) bool { return !exclude[f.def][s] }); f.val == nil {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// keepSubs filters the sub-attributes of a complex field; val is nil when nothing is left.
func keepSubs(f jfield, keep func(*attrDef) bool) jfield {
	filter := func(o jobj) jobj {
		var k jobj
		for _, sf := range o {
			if keep(sf.def) {
				k = append(k, sf)
			}
		}
		return k
	}
	switch v := f.val.(type) {
	case jobj:
		if k := filter(v); len(k) > 0 {
			return jfield{f.def, k}
		}
	case []jobj:
		var vs []jobj
		for _, o := range v {
			if k := filter(o); len(k) > 0 {
				vs = append(vs, k)
			}
		}
		if len(vs) > 0 {
			return jfield{f.def, vs}
		}
	}
	return jfield{f.def, nil}
}
