package scim

import (
	"encoding/json"
	"slices"
	"strings"
)

// MaxPatchOperations bounds one PATCH request. Entra ID sends one operation per changed
// attribute (a dozen with every default mapping), Okta one or two.
const MaxPatchOperations = 100

// PatchOp is one operation of a PATCH request (RFC 7644 §3.5.2).
type PatchOp struct {
	Op    string          // "add", "replace" or "remove", lower case once decoded
	Path  string          // "" when the operation targets the resource itself
	Value json.RawMessage // nil when the request had no value
}

// DecodePatch reads the body of PATCH /Users/{id}: a PatchOp message
// (urn:ietf:params:scim:api:messages:2.0:PatchOp). It checks the message's structure and
// every path, so a bad request fails before the user is read; ApplyPatch checks the values.
//
// Tolerated: op in any case (Entra ID sends "Replace", "Add", "Remove"), member names in any
// case ("operations"), a missing "schemas". Refused: "schemas" without the PatchOp URN
// (invalidSyntax), no operations or more than MaxPatchOperations, an unknown op
// (invalidSyntax), add or replace without a value (invalidSyntax), remove without a path
// (noTarget, RFC 7644 §3.5.2.2), a malformed or unknown path (invalidPath).
func DecodePatch(body []byte) ([]PatchOp, error) {
	if err := validBody(body); err != nil {
		return nil, err
	}
	ms, ok, err := members(body)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest(ScimTypeInvalidSyntax, msgBodyNotObject)
	}
	var rawOps json.RawMessage
	for _, m := range ms {
		switch {
		case equalFold(m.name, "schemas"):
			ss, err := decodeSchemas(m.value)
			if err != nil {
				return nil, err
			}
			if !containsFold(ss, URNPatchOp) {
				return nil, badRequest(ScimTypeInvalidSyntax, msgSchemasNoPatchOp)
			}
		case equalFold(m.name, "Operations"):
			rawOps = m.value
		}
	}
	var list []json.RawMessage
	if rawOps == nil || json.Unmarshal(rawOps, &list) != nil || len(list) == 0 {
		return nil, badRequest(ScimTypeInvalidSyntax, msgOperationsMissing)
	}
	if len(list) > MaxPatchOperations {
		return nil, badRequest(ScimTypeInvalidSyntax, msgTooManyOperations)
	}
	ops := make([]PatchOp, 0, len(list))
	for _, raw := range list {
		op, err := decodeOp(raw)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func decodeOp(raw json.RawMessage) (PatchOp, *Error) {
	var op PatchOp
	ms, ok, err := members(raw)
	if err != nil {
		return op, err
	}
	if !ok {
		return op, badRequest(ScimTypeInvalidSyntax, msgOperationNotObject)
	}
	for _, m := range ms {
		switch {
		case equalFold(m.name, "op"):
			if json.Unmarshal(m.value, &op.Op) != nil {
				return op, badRequest(ScimTypeInvalidSyntax, msgOpUnknown)
			}
		case equalFold(m.name, "path"):
			if isNull(m.value) {
				continue
			}
			if json.Unmarshal(m.value, &op.Path) != nil {
				return op, badRequest(ScimTypeInvalidPath, msgPathNotString)
			}
		case equalFold(m.name, "value"):
			op.Value = m.value
		}
	}
	kind, err := opKind(op.Op)
	if err != nil {
		return op, err
	}
	op.Op = kind
	if err := checkShape(op); err != nil {
		return op, err
	}
	if op.Path != "" {
		if _, err := parsePath(op.Path); err != nil {
			return op, err
		}
	}
	return op, nil
}

// opKind normalises op: RFC 7644 §3.5.2 spells it in lower case, Entra ID capitalises it,
// and its own guidance is not to match structural elements case-sensitively.
func opKind(op string) (string, *Error) {
	for _, k := range []string{"add", "replace", "remove"} {
		if equalFold(strings.TrimSpace(op), k) {
			return k, nil
		}
	}
	return "", badRequest(ScimTypeInvalidSyntax, msgOpUnknown)
}

func checkShape(op PatchOp) *Error {
	switch {
	case op.Op == "remove" && op.Path == "":
		return badRequest(ScimTypeNoTarget, msgRemoveNoPath)
	case op.Op != "remove" && op.Value == nil:
		return badRequest(ScimTypeInvalidSyntax, msgValueMissing)
	}
	return nil
}

// ApplyPatch applies the operations to u in order, all or nothing (RFC 7644 §3.5.2: if one
// fails, the resource is left as it was). u.ID and u.Meta are never changed. Use u.Equal on a
// copy taken before to tell a PATCH that changed nothing.
//
// Targets, for add and replace (add appends to multi-valued attributes, replace replaces):
//
//   - no path: the value is an object whose keys are attribute paths, each applied as if it
//     were the operation's path. Okta sends {"op":"replace","value":{"active":false}}; Entra
//     ID sends keys such as "name.givenName" and "emails[type eq \"work\"].value"
//     (aadOptscim062020). "id" is accepted when it equals u.ID.
//   - userName, externalId, displayName, nickName, title, preferredLanguage: a string
//     (null unassigns; userName cannot be unassigned).
//   - active: true, false, or the strings "True"/"False" in any case (Entra ID).
//   - name, name.givenName, name.familyName, name.formatted: an object merged into name, or
//     one string.
//   - emails, addresses: an array of values (or one object); add skips a value already
//     there; a value added with primary true takes the mark from the others (§3.5.2).
//   - emails.value, addresses.locality...: set on every value, or on a new one if none.
//   - emails[type eq "work"].value, emails[type eq "work"]: set on the values that match.
//     If none matches and the filter is made of eq comparisons joined by and, a value is
//     created from them: Entra ID sends Add and Replace on emails[type eq "work"].value
//     whether or not a work email exists, and its validator expects one created. This
//     departs from §3.5.2.3, which answers a replace that matches nothing with noTarget;
//     any other filter that matches nothing still does.
//
// remove: a single-valued attribute is unassigned; emails[filter] removes the matching
// values, emails[filter].value clears that sub-attribute of them; a multi-valued attribute
// with a value array removes the values equal to those given (Entra ID's older group
// removal shape). Removing what is not there changes nothing.
//
// Paths to attributes this service does not keep are accepted and change nothing (see the
// package documentation). Errors: invalidPath (malformed or unknown path), invalidValue
// (a value of the wrong type, more than one primary, no userName left), mutability (id,
// meta, schemas, groups), noTarget.
func ApplyPatch(u *User, ops []PatchOp) error {
	w := u.clone()
	for _, op := range ops {
		kind, err := opKind(op.Op)
		if err != nil {
			return err
		}
		op.Op = kind
		if err := checkShape(op); err != nil {
			return err
		}
		if op.Path == "" {
			err = applyObject(&w, kind, op.Value)
		} else {
			var pp patchPath
			if pp, err = parsePath(op.Path); err == nil {
				err = apply(&w, kind, pp, op.Value, false)
			}
		}
		if err != nil {
			return err
		}
	}
	if err := validate(&w); err != nil {
		return err
	}
	w.ID, w.Meta = u.ID, u.Meta
	*u = w
	return nil
}

// applyObject applies a path-less add or replace (RFC 7644 §3.5.2.1, §3.5.2.3): "the target
// location is assumed to be the resource itself".
func applyObject(u *User, kind string, raw json.RawMessage) *Error {
	ms, ok, err := members(raw)
	if err != nil {
		return err
	}
	if !ok {
		return badRequest(ScimTypeInvalidValue, msgNoPathNotObject)
	}
	for _, m := range ms {
		if equalFold(m.name, "schemas") {
			continue // the resource's own schemas, echoed back by some clients
		}
		pp, err := parsePath(m.name)
		if err != nil {
			return err
		}
		if err := apply(u, kind, pp, m.value, true); err != nil {
			return err
		}
	}
	return nil
}

// apply performs one operation on one path. inObject marks a key of a path-less value.
func apply(u *User, kind string, pp patchPath, raw json.RawMessage, inObject bool) *Error {
	if pp.top != nil && pp.top.mutability == readOnly {
		// Echoing the id back is harmless; changing it, meta or groups is not allowed
		// (RFC 7644 §3.5.2: a client MUST NOT modify a readOnly attribute).
		if pp.top.id == attrIDAttr && inObject && kind != "remove" {
			if s, _, err := decodeString(raw); err == nil && s == u.ID {
				return nil
			}
		}
		return badRequest(ScimTypeMutability, msgReadOnly)
	}
	if pp.ignore {
		return nil
	}
	switch pp.top.id {
	case attrEmails:
		return applyMulti(pp, &u.Emails, kind, raw)
	case attrAddresses:
		return applyMulti(pp, &u.Addresses, kind, raw)
	case attrName:
		if pp.sub != nil {
			if kind == "remove" {
				*u.Name.str(pp.sub.id) = ""
				return nil
			}
			return setSub(pp.sub, raw, &u.Name)
		}
		if kind == "remove" {
			u.Name = Name{}
			return nil
		}
		// replace on a complex attribute replaces the sub-attributes given and leaves the
		// others (RFC 7644 §3.5.2.3), as add does.
		return setAttr(u, pp.top, raw, true)
	}
	if kind == "remove" {
		if pp.top.id == attrActive {
			u.Active = nil
		} else if p := userString(u, pp.top.id); p != nil {
			*p = ""
		}
		return nil
	}
	return setAttr(u, pp.top, raw, false)
}

// applyMulti performs an operation on emails or addresses.
func applyMulti[T elem, P elemPtr[T]](pp patchPath, list *[]T, kind string, raw json.RawMessage) *Error {
	d := pp.top
	if pp.filter == nil && pp.sub == nil {
		switch kind {
		case "add":
			return setMulti[T, P](d, list, raw, true)
		case "replace":
			return setMulti[T, P](d, list, raw, false)
		}
		if raw == nil || isNull(raw) {
			*list = nil
			return nil
		}
		return removeValues[T, P](d, list, raw)
	}
	// The values the path selects: those matching the filter, or all of them.
	var hit []int
	for i := range *list {
		if pp.filter == nil || pp.filter.match(elemScope(P(&(*list)[i]))) {
			hit = append(hit, i)
		}
	}
	if kind == "remove" {
		if pp.sub == nil {
			*list = slices.DeleteFunc(*list, func(e T) bool {
				return pp.filter.match(elemScope(P(&e)))
			})
			return nil
		}
		for _, i := range hit {
			clearSub(P(&(*list)[i]), pp.sub)
		}
		*list = slices.DeleteFunc(*list, empty[T])
		return nil
	}
	if len(hit) == 0 {
		var e T
		if pp.filter != nil && !fromFilter(pp.filter, P(&e)) {
			return badRequest(ScimTypeNoTarget, msgNoMatchToCreate)
		}
		if len(*list) >= maxMultiValues {
			return badRequest(ScimTypeInvalidValue, msgTooManyValues)
		}
		*list = append(*list, e)
		hit = []int{len(*list) - 1}
	}
	for _, i := range hit {
		e := P(&(*list)[i])
		var err *Error
		if pp.sub != nil {
			err = setSub(pp.sub, raw, e)
		} else {
			err = decodeElem(d, raw, e)
		}
		if err != nil {
			return err
		}
	}
	// A value newly marked primary takes the mark from the others (RFC 7644 §3.5.2).
	if ps := primarySub(d); (pp.sub == nil || pp.sub == ps) && len(hit) == 1 && primaryOf(d, P(&(*list)[hit[0]])) {
		clearPrimary[T, P](d, *list, hit[0])
	}
	return nil
}

func elemScope[T elem, P elemPtr[T]](e P) *scope {
	switch e := any(e).(type) {
	case *Email:
		return &scope{email: e}
	case *Address:
		return &scope{addr: e}
	case *Name:
		return &scope{name: e}
	}
	return &scope{}
}

func clearSub[T elem, P elemPtr[T]](e P, sub *attrDef) {
	if p := e.str(sub.id); p != nil {
		*p = ""
	} else if p := e.flag(sub.id); p != nil {
		*p = false
	}
}

// fromFilter builds the value a filter of eq comparisons joined by and describes
// (type eq "work" → {"type":"work"}), so an add or replace through a filter that matches
// nothing can create it. It reports false for any other filter.
func fromFilter[T elem, P elemPtr[T]](f node, e P) bool {
	switch n := f.(type) {
	case *logNode:
		return n.and && fromFilter(n.l, e) && fromFilter(n.r, e)
	case *cmpNode:
		if n.op != opEq || !n.inElem || !n.eff.supported() {
			return false
		}
		if p := e.str(n.eff.id); p != nil && (n.val.kind == vString || n.val.kind == vNumber) {
			*p = n.val.s
			return true
		}
		if p := e.flag(n.eff.id); p != nil && n.val.kind == vBool {
			*p = n.val.b
			return true
		}
	}
	return false
}

// removeValues removes the values equal to those given, comparing the sub-attributes each
// given value names, case-insensitively where the schema says caseExact false (as filters
// compare them).
func removeValues[T elem, P elemPtr[T]](d *attrDef, list *[]T, raw json.RawMessage) *Error {
	vals, err := multiValues(raw)
	if err != nil {
		return err
	}
	for _, v := range vals {
		var want T
		if err := decodeElem[T, P](d, v, &want); err != nil {
			return err
		}
		ms, _, _ := members(v)
		*list = slices.DeleteFunc(*list, func(e T) bool {
			for _, m := range ms {
				s := d.child(m.name)
				if s == nil || !s.supported() {
					continue
				}
				if p := P(&e).str(s.id); p != nil {
					if q := P(&want).str(s.id); *p != *q && (s.caseExact || strings.ToLower(*p) != strings.ToLower(*q)) {
						return false
					}
				} else if p := P(&e).flag(s.id); p != nil && *p != *P(&want).flag(s.id) {
					return false
				}
			}
			return len(ms) > 0
		})
	}
	return nil
}
