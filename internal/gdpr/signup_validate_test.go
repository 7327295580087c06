package gdpr

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Distinctive fake values: no message may echo them (R-OPS-1, errors.go).
const (
	svFakeEmail    = "Zyxqv.Fakeperson@Example.test"
	svFakePassword = "Qwfp-Fake-Secret-7731"
	svFakeName     = "Zyxqvfake"
	svFakeTerms    = "terms-2024-06"
)

var svNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

func svRole(r Role) *Role { return &r }

func svValidInput() SignupInput {
	return SignupInput{
		Email:        svFakeEmail,
		Password:     svFakePassword,
		FirstName:    svFakeName,
		LastName:     "Fakelastname",
		Language:     "fr",
		DateOfBirth:  Date{Year: 1990, Month: 4, Day: 12},
		AcceptTerms:  true,
		TermsVersion: svFakeTerms,
	}
}

func svBrand(fields FieldRules) Brand {
	return Brand{ID: "acme", Name: "Acme Fake", Status: BrandActive, Retention: DefaultRetention(), Fields: fields}
}

func TestSignupInputValidate(t *testing.T) {
	tests := []struct {
		name   string
		fields FieldRules
		edit   func(*SignupInput)
		ok     bool
		// secret is a value the error message must not contain.
		secret string
	}{
		{"R-SIGNUP-1_valid_form", nil, func(*SignupInput) {}, true, ""},

		// T&C (R-SIGNUP-1).
		{"R-SIGNUP-1_terms_not_accepted", nil, func(in *SignupInput) { in.AcceptTerms = false }, false, ""},
		{"R-SIGNUP-1_terms_version_missing", nil, func(in *SignupInput) { in.TermsVersion = "" }, false, ""},
		{"R-SIGNUP-1_terms_version_blank", nil, func(in *SignupInput) { in.TermsVersion = "   " }, false, ""},
		{"R-SIGNUP-1_terms_version_65_chars", nil, func(in *SignupInput) { in.TermsVersion = strings.Repeat("v", 65) }, false, ""},
		{"R-SIGNUP-1_terms_version_64_chars", nil, func(in *SignupInput) { in.TermsVersion = strings.Repeat("v", 64) }, true, ""},
		{"R-SIGNUP-1_terms_version_control_character", nil, func(in *SignupInput) { in.TermsVersion = "2026-01\x00" }, false, ""},

		// Email (R-SIGNUP-2).
		{"R-SIGNUP-2_email_missing", nil, func(in *SignupInput) { in.Email = "" }, false, ""},
		{"R-SIGNUP-2_email_invalid", nil, func(in *SignupInput) { in.Email = "Zyxqv.Fakeperson-at-example" }, false, "Zyxqv.Fakeperson"},
		{"R-SIGNUP-2_email_two_at", nil, func(in *SignupInput) { in.Email = "zyxqv@fake@example.test" }, false, "zyxqv"},
		{"R-SIGNUP-2_email_with_surrounding_spaces_accepted", nil, func(in *SignupInput) { in.Email = "  " + svFakeEmail + "\n" }, true, ""},

		// Password (R-SIGNUP-3): bcrypt reads at most 72 bytes.
		{"R-SIGNUP-3_password_missing", nil, func(in *SignupInput) { in.Password = "" }, false, ""},
		{"R-SIGNUP-3_password_9_bytes", nil, func(in *SignupInput) { in.Password = "Qwfp-9byt" }, false, "Qwfp-9byt"},
		{"R-SIGNUP-3_password_10_bytes", nil, func(in *SignupInput) { in.Password = "Qwfp-10byt" }, true, ""},
		{"R-SIGNUP-3_password_72_bytes", nil, func(in *SignupInput) { in.Password = strings.Repeat("p", 72) }, true, ""},
		{"R-SIGNUP-3_password_73_bytes", nil, func(in *SignupInput) { in.Password = "Qwfp" + strings.Repeat("p", 69) }, false, "Qwfpppp"},
		{"R-SIGNUP-3_password_counts_bytes_not_characters", nil, func(in *SignupInput) {
			in.Password = strings.Repeat("é", 37) // 74 bytes, 37 characters
		}, false, ""},
		{"R-SIGNUP-3_password_invalid_UTF-8", nil, func(in *SignupInput) { in.Password = "Qwfp-fake-\xff\xfe" }, false, ""},

		// Role (R-ROLE): members only.
		{"R-ROLE_role_defaults_to_0", nil, func(in *SignupInput) { in.Role = nil }, true, ""},
		{"R-ROLE_role_6_expert", nil, func(in *SignupInput) { in.Role = svRole(RoleExpert) }, true, ""},
		{"R-ROLE_role_7_client_refused", nil, func(in *SignupInput) { in.Role = svRole(RoleClient) }, false, ""},
		{"R-ROLE_role_8_temporary_refused", nil, func(in *SignupInput) { in.Role = svRole(RoleTemporary) }, false, ""},
		{"R-ROLE_role_9_refused", nil, func(in *SignupInput) { in.Role = svRole(9) }, false, ""},
		{"R-ROLE_role_negative_refused", nil, func(in *SignupInput) { in.Role = svRole(-1) }, false, ""},

		// Brand field rules (R-SIGNUP-6).
		{"R-SIGNUP-6_required_field_missing", FieldRules{"lastName": FieldRequired}, func(in *SignupInput) { in.LastName = "" }, false, ""},
		{"R-SIGNUP-6_required_field_blank", FieldRules{"position": FieldRequired}, func(in *SignupInput) { in.Position = "   " }, false, ""},
		{"R-SIGNUP-6_required_field_given", FieldRules{"position": FieldRequired}, func(in *SignupInput) { in.Position = "Fake seller" }, true, ""},
		{"R-SIGNUP-6_required_customer_id_missing", FieldRules{"customerId": FieldRequired}, func(*SignupInput) {}, false, ""},
		{"R-SIGNUP-6_required_date_of_birth_missing", FieldRules{"dateOfBirth": FieldRequired}, func(in *SignupInput) { in.DateOfBirth = Date{} }, false, ""},
		{"R-SIGNUP-6_required_language_missing", FieldRules{"language": FieldRequired}, func(in *SignupInput) { in.Language = "" }, false, ""},
		{"R-SIGNUP-6_not_asked_field_given", FieldRules{"alias": FieldNotAsked}, func(in *SignupInput) { in.Alias = "Zyxqvalias" }, false, "Zyxqvalias"},
		{"R-SIGNUP-6_not_asked_field_absent", FieldRules{"alias": FieldNotAsked}, func(in *SignupInput) { in.Alias = "" }, true, ""},
		{"R-SIGNUP-6_not_asked_title_given", FieldRules{"title": FieldNotAsked}, func(in *SignupInput) { in.Title = "Dr" }, false, ""},
		{"R-SIGNUP-6_alias_not_asked_by_default", nil, func(in *SignupInput) { in.Alias = "zyx" }, false, ""},
		{"R-SIGNUP-6_required_alias_given", FieldRules{"alias": FieldRequired}, func(in *SignupInput) { in.Alias = "zyx" }, true, ""},
		{"R-SIGNUP-6_required_alias_missing", FieldRules{"alias": FieldRequired}, func(*SignupInput) {}, false, ""},
		{"R-SIGNUP-6_optional_fields_may_be_empty", nil, func(in *SignupInput) {
			in.FirstName, in.LastName, in.Alias, in.Language, in.DateOfBirth = "", "", "", "", Date{}
		}, true, ""},

		// Text fields.
		{"R-SIGNUP-6_control_character_in_first_name", nil, func(in *SignupInput) { in.FirstName = "Zyxq\x00vfake" }, false, "Zyxq"},
		{"R-SIGNUP-6_newline_inside_last_name", nil, func(in *SignupInput) { in.LastName = "Zyxq\nvfake" }, false, "Zyxq"},
		{"R-SIGNUP-6_escape_in_alias", FieldRules{"alias": FieldRequired}, func(in *SignupInput) { in.Alias = "zyx\x1b[31m" }, false, "zyx"},
		{"R-SIGNUP-6_C1_control_in_title", nil, func(in *SignupInput) { in.Title = "Dr\u0085Fake" }, false, ""},
		{"R-SIGNUP-6_101_characters", nil, func(in *SignupInput) { in.FirstName = strings.Repeat("Z", 101) }, false, "ZZZZ"},
		{"R-SIGNUP-6_100_characters", nil, func(in *SignupInput) { in.FirstName = strings.Repeat("é", 100) }, true, ""},
		{"R-SIGNUP-6_invalid_UTF-8_in_name", nil, func(in *SignupInput) { in.FirstName = "Zyxq\xffvfake" }, false, "Zyxq"},
		{"R-SIGNUP-6_accents_and_apostrophes", nil, func(in *SignupInput) { in.LastName = "D'Ébrée-Fäke" }, true, ""},

		// Language tag.
		{"R-DATA-1_language_fr", nil, func(in *SignupInput) { in.Language = "fr" }, true, ""},
		{"R-DATA-1_language_en-GB", nil, func(in *SignupInput) { in.Language = "en-GB" }, true, ""},
		{"R-DATA-1_language_three_letters", nil, func(in *SignupInput) { in.Language = "gsw" }, true, ""},
		{"R-DATA-1_language_upper_case_primary", nil, func(in *SignupInput) { in.Language = "FR" }, false, ""},
		{"R-DATA-1_language_underscore", nil, func(in *SignupInput) { in.Language = "en_GB" }, false, ""},
		{"R-DATA-1_language_words", nil, func(in *SignupInput) { in.Language = "french" }, false, ""},
		{"R-DATA-1_language_trailing_hyphen", nil, func(in *SignupInput) { in.Language = "en-" }, false, ""},

		// Date of birth (R-DATA-1, R-ERASE-1 keeps the year on erasure, not at signup).
		{"R-DATA-1_date_of_birth_year_only_refused", nil, func(in *SignupInput) { in.DateOfBirth = Date{Year: 1990} }, false, ""},
		{"R-DATA-1_date_of_birth_next_year_refused", nil, func(in *SignupInput) { in.DateOfBirth = Date{Year: 2026, Month: 1, Day: 1} }, false, ""},
		{"R-DATA-1_date_of_birth_later_this_year_refused", nil, func(in *SignupInput) { in.DateOfBirth = Date{Year: 2025, Month: 12, Day: 1} }, false, ""},
		{"R-DATA-1_date_of_birth_tomorrow_refused", nil, func(in *SignupInput) { in.DateOfBirth = Date{Year: 2025, Month: 6, Day: 16} }, false, ""},
		{"R-DATA-1_date_of_birth_earlier_this_year_accepted", nil, func(in *SignupInput) { in.DateOfBirth = Date{Year: 2025, Month: 1, Day: 2} }, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := svValidInput()
			tt.edit(&in)
			err := in.validate(svBrand(tt.fields), svNow)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, CodeInvalid, ErrorCode(err))
			svRequireNoValue(t, err, tt.secret)
		})
	}
}

// svRequireNoValue: the message names the field, never its value.
func svRequireNoValue(t *testing.T, err error, extra string) {
	t.Helper()
	msg := strings.ToLower(err.Error())
	for _, v := range []string{svFakeEmail, "fakeperson", svFakePassword, "qwfp", svFakeName, "zyxqv", extra} {
		if v != "" {
			require.NotContains(t, msg, strings.ToLower(v))
		}
	}
}

func TestSignupInputValidateNormalises(t *testing.T) {
	t.Run("R-SIGNUP-2_email_trimmed_and_lower-cased", func(t *testing.T) {
		in := svValidInput()
		in.Email = "  " + svFakeEmail + " "
		require.NoError(t, in.validate(svBrand(nil), svNow))
		require.Equal(t, "zyxqv.fakeperson@example.test", in.Email)
	})
	t.Run("R-ROLE_missing_role_becomes_ambassador", func(t *testing.T) {
		in := svValidInput()
		require.NoError(t, in.validate(svBrand(nil), svNow))
		require.NotNil(t, in.Role)
		require.Equal(t, RoleAmbassador, *in.Role)
	})
	t.Run("R-ROLE_given_role_kept", func(t *testing.T) {
		in := svValidInput()
		in.Role = svRole(RoleVendor)
		require.NoError(t, in.validate(svBrand(nil), svNow))
		require.Equal(t, RoleVendor, *in.Role)
	})
	t.Run("R-SIGNUP-6_text_fields_trimmed", func(t *testing.T) {
		in := svValidInput()
		in.FirstName, in.Position = "  Zoe ", "\tFake seller\n"
		require.NoError(t, in.validate(svBrand(nil), svNow))
		require.Equal(t, "Zoe", in.FirstName)
		require.Equal(t, "Fake seller", in.Position)
	})
	t.Run("R-SIGNUP-3_password_never_trimmed", func(t *testing.T) {
		in := svValidInput()
		in.Password = " " + svFakePassword + " "
		require.NoError(t, in.validate(svBrand(nil), svNow))
		require.Equal(t, " "+svFakePassword+" ", in.Password)
	})
}

// TestDeeplyNestedJobRefused is finding 1 of issue 24 for queue messages: a job nested deeper
// than MaxJobDepth is refused as invalid, saying the bound, before it is decoded.
func TestDeeplyNestedJobRefused(t *testing.T) {
	var job MailJob
	for _, body := range []string{
		`{"brandId":"acme","kind":` + strings.Repeat("[", 60_000),
		`{"brandId":"acme","kind":` + strings.Repeat("[", MaxJobDepth) + strings.Repeat("]", MaxJobDepth) + `}`,
	} {
		err := decodeJob([]byte(body), &job)
		require.Equal(t, CodeInvalid, ErrorCode(err))
		var ge *Error
		require.ErrorAs(t, err, &ge)
		require.Equal(t, "job message nested deeper than 8 levels", ge.Message)
	}
	require.NoError(t, decodeJob([]byte(`{"brandId":"acme","kind":"signup_confirmation","userId":"u1"}`), &job))
}
