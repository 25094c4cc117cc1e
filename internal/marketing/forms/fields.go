package forms

import "github.com/ryorin/ryorin/internal/i18n"

// Field is one visible input of a form and where its value goes: a contact
// field (email, family_name, …), "company" (the contact's company, matched
// or created by name), "prefecture" (the company's prefecture) or a custom
// contact property as "prop.<key>".
type Field struct {
	Key      string `json:"key" doc:"email, family_name, given_name, family_name_kana, given_name_kana, company, phone, title, department, prefecture, or prop.<key> for a custom contact property"`
	LabelJA  string `json:"label_ja,omitempty" doc:"label shown to Japanese visitors; default: the field's standard label"`
	LabelEN  string `json:"label_en,omitempty" doc:"label shown to English visitors; default: the field's standard label"`
	Required bool   `json:"required"`
}

// Label returns the field's label in lang: the form's own label, else the
// other language's, else the standard one.
func (f Field) Label(lang i18n.Lang, std string) string {
	first, second := f.LabelJA, f.LabelEN
	if lang == i18n.EN {
		first, second = f.LabelEN, f.LabelJA
	}
	switch {
	case first != "":
		return first
	case std != "":
		return std
	}
	return second
}

// StandardField describes a field every form may use.
type StandardField struct {
	Key   string
	Input string // the HTML input type: text, email, tel, select
	// AutoComplete is the browser autofill hint.
	AutoComplete string
}

// StandardFields are the built-in fields in the order the builder lists them.
var StandardFields = []StandardField{
	{"email", "email", "email"},
	{"family_name", "text", "family-name"},
	{"given_name", "text", "given-name"},
	{"family_name_kana", "text", "off"},
	{"given_name_kana", "text", "off"},
	{"company", "text", "organization"},
	{"department", "text", "off"},
	{"title", "text", "organization-title"},
	{"phone", "tel", "tel"},
	{"prefecture", "select", "address-level1"},
}

// standard returns the built-in field with key.
func standard(key string) (StandardField, bool) {
	for _, s := range StandardFields {
		if s.Key == key {
			return s, true
		}
	}
	return StandardField{}, false
}

// Prefecture is one of Japan's 47 prefectures, by its JIS code order.
type Prefecture struct {
	JA, EN string
}

// Prefectures lists the prefectures for the prefecture field; the Japanese
// name is the stored value.
var Prefectures = []Prefecture{
	{"北海道", "Hokkaido"}, {"青森県", "Aomori"}, {"岩手県", "Iwate"}, {"宮城県", "Miyagi"}, {"秋田県", "Akita"},
	{"山形県", "Yamagata"}, {"福島県", "Fukushima"}, {"茨城県", "Ibaraki"}, {"栃木県", "Tochigi"}, {"群馬県", "Gunma"},
	{"埼玉県", "Saitama"}, {"千葉県", "Chiba"}, {"東京都", "Tokyo"}, {"神奈川県", "Kanagawa"}, {"新潟県", "Niigata"},
	{"富山県", "Toyama"}, {"石川県", "Ishikawa"}, {"福井県", "Fukui"}, {"山梨県", "Yamanashi"}, {"長野県", "Nagano"},
	{"岐阜県", "Gifu"}, {"静岡県", "Shizuoka"}, {"愛知県", "Aichi"}, {"三重県", "Mie"}, {"滋賀県", "Shiga"},
	{"京都府", "Kyoto"}, {"大阪府", "Osaka"}, {"兵庫県", "Hyogo"}, {"奈良県", "Nara"}, {"和歌山県", "Wakayama"},
	{"鳥取県", "Tottori"}, {"島根県", "Shimane"}, {"岡山県", "Okayama"}, {"広島県", "Hiroshima"}, {"山口県", "Yamaguchi"},
	{"徳島県", "Tokushima"}, {"香川県", "Kagawa"}, {"愛媛県", "Ehime"}, {"高知県", "Kochi"}, {"福岡県", "Fukuoka"},
	{"佐賀県", "Saga"}, {"長崎県", "Nagasaki"}, {"熊本県", "Kumamoto"}, {"大分県", "Oita"}, {"宮崎県", "Miyazaki"},
	{"鹿児島県", "Kagoshima"}, {"沖縄県", "Okinawa"},
}

// Name is the prefecture's name in lang.
func (p Prefecture) Name(lang i18n.Lang) string {
	if lang == i18n.EN {
		return p.EN
	}
	return p.JA
}

// prefectureValue maps a submitted prefecture (Japanese or English name) to
// the stored Japanese name.
func prefectureValue(v string) (string, bool) {
	for _, p := range Prefectures {
		if v == p.JA || v == p.EN {
			return p.JA, true
		}
	}
	return "", false
}
