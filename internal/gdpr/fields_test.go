package gdpr

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFieldRulesFollowTheGuide is issue 23, item 21 (R-SIGNUP-6): a brand chooses, per signup
// field, only among what the guide's field table allows that field; a setting outside it is
// refused with a message naming the field.
//
//	guide (alias, the row after "Creation date"): "Required or Not asked for, depending on Brand configuration"
//	guide ("Last name"): "Required or Optional, depending on Brand configuration."
//	guide (title, the row after "Last name"): "Optional or Not asked for, depending on Brand configuration."
//	guide ("Customer ID"): "Optional (unless required by the Brand)"
//	guide ("Date of birth", "Position in the Brand organization"): "Optional (unless required by brand)"
func TestFieldRulesFollowTheGuide(t *testing.T) {
	allowed := map[string][]FieldRequirement{
		"alias":       {FieldRequired, FieldNotAsked},
		"lastName":    {FieldRequired, FieldOptional},
		"title":       {FieldOptional, FieldNotAsked},
		"customerId":  {FieldOptional, FieldRequired},
		"dateOfBirth": {FieldOptional, FieldRequired},
		"position":    {FieldOptional, FieldRequired},
		// The guide's table gives first name and preferred language no requirement of their
		// own: a brand chooses freely.
		"firstName": {FieldRequired, FieldOptional, FieldNotAsked},
		"language":  {FieldRequired, FieldOptional, FieldNotAsked},
	}
	require.ElementsMatch(t, SignupFields, keysOf(allowed), "every signup field has its row")
	for field, ok := range allowed {
		for _, req := range []FieldRequirement{FieldRequired, FieldOptional, FieldNotAsked} {
			name := "R-SIGNUP-6_" + field + "_" + string(req)
			t.Run(name, func(t *testing.T) {
				err := FieldRules{field: req}.Validate()
				if contains(ok, req) {
					require.NoError(t, err)
					return
				}
				require.Error(t, err)
				require.Equal(t, CodeInvalid, ErrorCode(err))
				require.Contains(t, err.Error(), "fields."+field, "the message names the field")
			})
		}
	}
}

// TestFieldDefaultsFollowTheGuide: a brand that configures nothing gets, for each field, a
// requirement the guide allows; alias may not be optional, so it is not asked until the brand
// requires it (R-SIGNUP-6).
func TestFieldDefaultsFollowTheGuide(t *testing.T) {
	require.Equal(t, FieldNotAsked, FieldRules(nil).Requirement("alias"))
	require.Equal(t, FieldOptional, FieldRules(nil).Requirement("lastName"))
	require.Equal(t, FieldOptional, FieldRules(nil).Requirement("title"))
	for _, f := range SignupFields {
		require.NoError(t, FieldRules{f: FieldRules(nil).Requirement(f)}.Validate(), f)
	}
	in := svValidInput()
	in.Alias = "zyx"
	err := in.validate(svBrand(nil), svNow)
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.(*Error).Message, "alias "), "%v", err)
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
