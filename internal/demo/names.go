package demo

// The vocabulary the generator draws from. Every name is fictional; every
// domain lives under the reserved .example top-level domain (RFC 2606), so a
// demo install can never mail a real company.

// word is a Japanese word with its katakana reading and a romanisation for
// email addresses and domains.
type word struct{ ja, kana, roman string }

var familyNames = []word{
	{"佐藤", "サトウ", "sato"}, {"鈴木", "スズキ", "suzuki"}, {"高橋", "タカハシ", "takahashi"}, {"田中", "タナカ", "tanaka"},
	{"伊藤", "イトウ", "ito"}, {"渡辺", "ワタナベ", "watanabe"}, {"山本", "ヤマモト", "yamamoto"}, {"中村", "ナカムラ", "nakamura"},
	{"小林", "コバヤシ", "kobayashi"}, {"加藤", "カトウ", "kato"}, {"吉田", "ヨシダ", "yoshida"}, {"山田", "ヤマダ", "yamada"},
	{"佐々木", "ササキ", "sasaki"}, {"山口", "ヤマグチ", "yamaguchi"}, {"松本", "マツモト", "matsumoto"}, {"井上", "イノウエ", "inoue"},
	{"木村", "キムラ", "kimura"}, {"林", "ハヤシ", "hayashi"}, {"斎藤", "サイトウ", "saito"}, {"清水", "シミズ", "shimizu"},
	{"山崎", "ヤマザキ", "yamazaki"}, {"森", "モリ", "mori"}, {"池田", "イケダ", "ikeda"}, {"橋本", "ハシモト", "hashimoto"},
	{"阿部", "アベ", "abe"}, {"石川", "イシカワ", "ishikawa"}, {"山下", "ヤマシタ", "yamashita"}, {"中島", "ナカジマ", "nakajima"},
	{"石井", "イシイ", "ishii"}, {"小川", "オガワ", "ogawa"}, {"前田", "マエダ", "maeda"}, {"岡田", "オカダ", "okada"},
	{"長谷川", "ハセガワ", "hasegawa"}, {"藤田", "フジタ", "fujita"}, {"後藤", "ゴトウ", "goto"}, {"近藤", "コンドウ", "kondo"},
	{"村上", "ムラカミ", "murakami"}, {"遠藤", "エンドウ", "endo"}, {"青木", "アオキ", "aoki"}, {"坂本", "サカモト", "sakamoto"},
	{"福田", "フクダ", "fukuda"}, {"西村", "ニシムラ", "nishimura"}, {"藤井", "フジイ", "fujii"}, {"岡本", "オカモト", "okamoto"},
	{"中川", "ナカガワ", "nakagawa"}, {"原田", "ハラダ", "harada"}, {"小野", "オノ", "ono"}, {"竹内", "タケウチ", "takeuchi"},
	{"金子", "カネコ", "kaneko"}, {"和田", "ワダ", "wada"},
}

var givenNames = []word{
	{"太郎", "タロウ", "taro"}, {"健太", "ケンタ", "kenta"}, {"翔太", "ショウタ", "shota"}, {"大輔", "ダイスケ", "daisuke"},
	{"拓也", "タクヤ", "takuya"}, {"直樹", "ナオキ", "naoki"}, {"和也", "カズヤ", "kazuya"}, {"誠", "マコト", "makoto"},
	{"健一", "ケンイチ", "kenichi"}, {"浩二", "コウジ", "koji"}, {"隆", "タカシ", "takashi"}, {"悠斗", "ユウト", "yuto"},
	{"蓮", "レン", "ren"}, {"亮", "リョウ", "ryo"}, {"智也", "トモヤ", "tomoya"}, {"裕介", "ユウスケ", "yusuke"},
	{"修", "オサム", "osamu"}, {"雄一", "ユウイチ", "yuichi"}, {"陽介", "ヨウスケ", "yosuke"}, {"俊介", "シュンスケ", "shunsuke"},
	{"花子", "ハナコ", "hanako"}, {"美咲", "ミサキ", "misaki"}, {"さくら", "サクラ", "sakura"}, {"彩", "アヤ", "aya"},
	{"由美", "ユミ", "yumi"}, {"恵", "メグミ", "megumi"}, {"真由美", "マユミ", "mayumi"}, {"愛", "アイ", "ai"},
	{"陽子", "ヨウコ", "yoko"}, {"奈々", "ナナ", "nana"}, {"結衣", "ユイ", "yui"}, {"麻衣", "マイ", "mai"},
	{"千尋", "チヒロ", "chihiro"}, {"香織", "カオリ", "kaori"}, {"美穂", "ミホ", "miho"}, {"智子", "トモコ", "tomoko"},
	{"優子", "ユウコ", "yuko"}, {"綾香", "アヤカ", "ayaka"}, {"理恵", "リエ", "rie"}, {"沙織", "サオリ", "saori"},
}

var enFirstNames = []string{"Emily", "Michael", "Sarah", "David", "Jessica", "Daniel", "Laura", "Chris", "Olivia", "Ryan",
	"Sophie", "Kevin", "Rachel", "Andrew", "Megan", "Wei", "Priya", "Arjun", "Mei", "Tom"}

var enLastNames = []string{"Smith", "Johnson", "Brown", "Taylor", "Miller", "Davis", "Clark", "Lewis", "Walker", "Hall",
	"Young", "King", "Wright", "Scott", "Green", "Baker", "Tan", "Lim", "Wong", "Patel"}

// companyStems are the distinctive part of Japanese company names.
var companyStems = []word{
	{"東都", "トウト", "toto"}, {"北斗", "ホクト", "hokuto"}, {"青葉", "アオバ", "aoba"}, {"みなと", "ミナト", "minato"},
	{"さくら", "サクラ", "sakura"}, {"大和", "ヤマト", "yamato"}, {"富士見", "フジミ", "fujimi"}, {"葵", "アオイ", "aoi"},
	{"朝日", "アサヒ", "asahi"}, {"ひかり", "ヒカリ", "hikari"}, {"中央", "チュウオウ", "chuo"}, {"関西", "カンサイ", "kansai"},
	{"東海", "トウカイ", "tokai"}, {"九州", "キュウシュウ", "kyushu"}, {"北陸", "ホクリク", "hokuriku"}, {"瀬戸内", "セトウチ", "setouchi"},
	{"光栄", "コウエイ", "koei"}, {"新星", "シンセイ", "shinsei"}, {"丸山", "マルヤマ", "maruyama"}, {"双葉", "フタバ", "futaba"},
	{"若葉", "ワカバ", "wakaba"}, {"平和", "ヘイワ", "heiwa"}, {"未来", "ミライ", "mirai"}, {"翔栄", "ショウエイ", "shoei"},
	{"大空", "オオゾラ", "ozora"}, {"白樺", "シラカバ", "shirakaba"}, {"紅葉", "モミジ", "momiji"}, {"清流", "セイリュウ", "seiryu"},
	{"和光", "ワコウ", "wako"}, {"栄進", "エイシン", "eishin"}, {"アルファ", "アルファ", "alpha"}, {"ネクスト", "ネクスト", "next"},
	{"グリーン", "グリーン", "green"}, {"スカイ", "スカイ", "sky"}, {"アーク", "アーク", "arc"}, {"ユニオン", "ユニオン", "union"},
	{"ブライト", "ブライト", "bright"}, {"リンク", "リンク", "link"},
}

var enCompanyStems = []string{"Northwind", "Bluepeak", "Harbor", "Summit", "Redwood", "Brightline", "Crescent", "Ironbridge",
	"Lumen", "Pioneer", "Silverline", "Westbrook", "Evergreen", "Keystone", "Orchid", "Atlas", "Meridian", "Cobalt", "Granite", "Sterling"}

// industry groups the name suffixes that fit it.
type industry struct {
	ja, en   string
	weight   int
	suffixes []word
	enSuffix []string
}

var industries = []industry{
	{"情報通信業", "Software", 22, []word{{"システムズ", "システムズ", "systems"}, {"ソフト", "ソフト", "soft"},
		{"テクノロジーズ", "テクノロジーズ", "tech"}, {"ネットワークス", "ネットワークス", "networks"}}, []string{"Software", "Systems", "Labs", "Networks"}},
	{"製造業", "Manufacturing", 18, []word{{"製作所", "セイサクショ", "mfg"}, {"工業", "コウギョウ", "kogyo"}, {"精機", "セイキ", "seiki"},
		{"電機", "デンキ", "denki"}}, []string{"Manufacturing", "Industries", "Precision"}},
	{"卸売業・小売業", "Wholesale & retail", 12, []word{{"商事", "ショウジ", "shoji"}, {"物産", "ブッサン", "bussan"},
		{"トレーディング", "トレーディング", "trading"}}, []string{"Trading", "Supply", "Retail"}},
	{"不動産業", "Real estate", 8, []word{{"不動産", "フドウサン", "fudosan"}, {"地所", "ジショ", "jisho"}, {"ホーム", "ホーム", "home"}},
		[]string{"Properties", "Realty"}},
	{"建設業", "Construction", 6, []word{{"建設", "ケンセツ", "kensetsu"}, {"工務店", "コウムテン", "komuten"}}, []string{"Builders", "Construction"}},
	{"運輸業・物流", "Logistics", 7, []word{{"物流", "ブツリュウ", "butsuryu"}, {"運輸", "ウンユ", "unyu"},
		{"ロジスティクス", "ロジスティクス", "logistics"}}, []string{"Logistics", "Freight"}},
	{"食品", "Food & beverage", 5, []word{{"食品", "ショクヒン", "shokuhin"}, {"フーズ", "フーズ", "foods"}}, []string{"Foods", "Kitchen"}},
	{"人材サービス", "Staffing", 6, []word{{"キャリア", "キャリア", "career"}, {"スタッフィング", "スタッフィング", "staffing"}},
		[]string{"Talent", "Staffing"}},
	{"教育", "Education", 4, []word{{"アカデミー", "アカデミー", "academy"}, {"ゼミナール", "ゼミナール", "seminar"}}, []string{"Academy", "Learning"}},
	{"医療・ヘルスケア", "Healthcare", 5, []word{{"メディカル", "メディカル", "medical"}, {"ヘルスケア", "ヘルスケア", "healthcare"}},
		[]string{"Health", "Medical"}},
	{"コンサルティング", "Consulting", 7, []word{{"コンサルティング", "コンサルティング", "consulting"}, {"総研", "ソウケン", "soken"}},
		[]string{"Partners", "Consulting", "Advisory"}},
	{"広告・マーケティング", "Advertising & marketing", 6, []word{{"エージェンシー", "エージェンシー", "agency"}, {"企画", "キカク", "kikaku"},
		{"クリエイティブ", "クリエイティブ", "creative"}}, []string{"Media", "Creative", "Agency"}},
	{"金融・保険", "Finance & insurance", 4, []word{{"キャピタル", "キャピタル", "capital"}, {"リース", "リース", "lease"}},
		[]string{"Capital", "Financial"}},
}

type city struct{ name, town, postal string }

// prefecture is where Japanese companies sit, with its phone area code and a
// corporate-number registry office code.
type prefecture struct {
	name, area, office string
	weight             int
	cities             []city
}

var prefectures = []prefecture{
	{"東京都", "03", "0104", 40, []city{{"千代田区", "丸の内", "100-0005"}, {"港区", "芝浦", "108-0023"}, {"渋谷区", "道玄坂", "150-0043"},
		{"中央区", "日本橋本町", "103-0023"}, {"新宿区", "西新宿", "160-0023"}, {"品川区", "大崎", "141-0032"}}},
	{"大阪府", "06", "1200", 14, []city{{"大阪市北区", "梅田", "530-0001"}, {"大阪市中央区", "本町", "541-0053"}, {"大阪市西区", "靱本町", "550-0004"}}},
	{"神奈川県", "045", "0200", 9, []city{{"横浜市西区", "みなとみらい", "220-0012"}, {"川崎市幸区", "堀川町", "212-0013"}}},
	{"愛知県", "052", "1800", 9, []city{{"名古屋市中村区", "名駅", "450-0002"}, {"名古屋市中区", "栄", "460-0008"}}},
	{"福岡県", "092", "2900", 7, []city{{"福岡市博多区", "博多駅前", "812-0011"}, {"福岡市中央区", "天神", "810-0001"}}},
	{"北海道", "011", "4300", 4, []city{{"札幌市中央区", "北五条西", "060-0005"}}},
	{"京都府", "075", "1300", 4, []city{{"京都市下京区", "四条通", "600-8008"}}},
	{"埼玉県", "048", "0300", 4, []city{{"さいたま市大宮区", "桜木町", "330-0854"}}},
	{"千葉県", "043", "0400", 3, []city{{"千葉市美浜区", "中瀬", "261-0023"}}},
	{"兵庫県", "078", "1400", 3, []city{{"神戸市中央区", "三宮町", "650-0021"}}},
	{"宮城県", "022", "3700", 2, []city{{"仙台市青葉区", "中央", "980-0021"}}},
	{"広島県", "082", "2400", 2, []city{{"広島市中区", "紙屋町", "730-0031"}}},
}

var buildings = []string{"センタービル", "ビジネスタワー", "第一ビル", "スクエアビル", "フロントタワー", "イーストビル", "ガーデンプレイス"}

// enPlace is where English-speaking customers sit. Phone numbers use the
// ranges reserved for fiction (US 555-01xx, UK 020 7946 0xxx).
type enPlace struct {
	country, city, state, postal, street string
	phone                                func(n int) string
}

var enPlaces = []enPlace{
	{"US", "San Francisco", "CA", "94105", "Market Street", func(n int) string { return fmtPhone("+1 415-555-01%02d", n%100) }},
	{"US", "Seattle", "WA", "98101", "Pine Street", func(n int) string { return fmtPhone("+1 206-555-01%02d", n%100) }},
	{"US", "New York", "NY", "10001", "West 34th Street", func(n int) string { return fmtPhone("+1 212-555-01%02d", n%100) }},
	{"US", "Austin", "TX", "78701", "Congress Avenue", func(n int) string { return fmtPhone("+1 512-555-01%02d", n%100) }},
	{"SG", "Singapore", "", "018989", "Marina Boulevard", func(n int) string { return fmtPhone("+65 6555 %04d", n%10000) }},
	// UK postcodes are left out: crm.CompanyInput keeps only the digits of a postal code.
	{"GB", "London", "", "", "Old Street", func(n int) string { return fmtPhone("+44 20 7946 0%03d", n%1000) }},
	{"GB", "Manchester", "", "", "Deansgate", func(n int) string { return fmtPhone("+44 161 496 0%03d", n%1000) }},
}

var enLegal = map[string]string{"US": "Inc.", "SG": "Pte. Ltd.", "GB": "Ltd."}

type titled struct {
	title, dept string
	weight      int
	senior      bool
}

var jaTitles = []titled{
	{"代表取締役", "経営企画部", 3, true}, {"取締役", "営業本部", 4, true}, {"執行役員", "マーケティング本部", 3, true},
	{"部長", "営業部", 7, true}, {"部長", "マーケティング部", 5, true}, {"部長", "情報システム部", 3, true},
	{"課長", "営業部", 8, false}, {"課長", "営業企画部", 5, false}, {"課長", "DX推進室", 3, false},
	{"係長", "マーケティング部", 5, false}, {"主任", "インサイドセールス課", 6, false}, {"マネージャー", "カスタマーサクセス部", 6, false},
	{"リーダー", "営業部", 6, false}, {"", "マーケティング部", 10, false}, {"", "営業部", 10, false}, {"", "総務部", 4, false},
	{"", "情報システム部", 4, false},
}

var enTitles = []titled{
	{"CEO", "Executive", 2, true}, {"VP of Sales", "Sales", 3, true}, {"VP of Marketing", "Marketing", 3, true},
	{"Head of Revenue Operations", "Operations", 3, true}, {"IT Director", "IT", 2, true}, {"Marketing Manager", "Marketing", 6, false},
	{"Sales Manager", "Sales", 6, false}, {"Operations Manager", "Operations", 4, false}, {"Account Executive", "Sales", 6, false},
	{"Marketing Specialist", "Marketing", 6, false}, {"Customer Success Manager", "Customer Success", 4, false},
}

// channelMix is how contacts first found Ryorin Cloud, with the source text
// a marketer would have typed (Japanese, English).
type channelMix struct {
	key       string
	weight    int
	sourcesJA []string
	sourcesEN []string
}

var channelMixes = []channelMix{
	{"organic_search", 24, []string{"Google検索", "Yahoo!検索", "ブログ記事「MAとSFAの連携」"}, []string{"Google search", "Blog: lead scoring basics"}},
	{"paid_search", 14, []string{"Google広告「CRM 比較」", "Yahoo!広告「MA ツール」"}, []string{"Google Ads: CRM comparison"}},
	{"social", 10, []string{"LinkedIn", "X (旧Twitter)", "Facebook広告"}, []string{"LinkedIn", "LinkedIn Ads"}},
	{"email", 8, []string{"メルマガ", "ウェビナー案内メール"}, []string{"Newsletter"}},
	{"referral", 10, []string{"比較サイト経由", "パートナー紹介", "導入企業からの紹介"}, []string{"Review site", "Partner referral"}},
	{"direct", 10, []string{"直接流入", "社名検索"}, []string{"Direct"}},
	{"events_offline", 18, []string{"展示会: 営業DX EXPO", "自社セミナー「インサイドセールス立ち上げ講座」", "名刺交換"},
		[]string{"SaaStr Asia booth", "Webinar: RevOps in Japan"}},
	{"other", 6, []string{"電話問い合わせ", "その他"}, []string{"Phone inquiry"}},
}

var lostReasons = []string{"価格", "競合", "時期尚早", "予算なし"}

var callSubjectsJA = map[string][]string{
	"no_answer":    {"架電（不在）", "フォローコール（不在）"},
	"gatekeeper":   {"架電（受付止まり）", "代表番号へ架電（受付止まり）"},
	"connected":    {"ヒアリングコール", "資料送付後のフォローコール", "課題ヒアリング"},
	"appointment":  {"アポイント獲得", "オンライン商談のアポ獲得"},
	"voicemail":    {"留守番電話にメッセージ", "折り返し依頼の留守電"},
	"wrong_number": {"番号誤り", "電話番号が使われていない"},
}

var callSubjectsEN = map[string][]string{
	"no_answer": {"Call – no answer"}, "gatekeeper": {"Call – stopped at reception"}, "connected": {"Discovery call"},
	"appointment": {"Call – meeting booked"}, "voicemail": {"Left a voicemail"}, "wrong_number": {"Wrong number"},
}

var emailSubjectsJA = []string{"資料送付のご連絡", "先日のお打ち合わせのお礼", "導入事例のご紹介", "ウェビナーのご案内", "お見積りのご確認",
	"トライアルアカウントのご案内", "ご検討状況のご確認"}
var emailSubjectsEN = []string{"Following up on our call", "Case study: SaaS company in Tokyo", "Your trial account", "Pricing overview",
	"Checking in"}

var noteBodiesJA = []string{"決裁者は情報システム部長。年度内の導入を検討中。", "現在はExcelで案件管理。MA は未導入。",
	"競合製品と比較中。API連携を重視している。", "予算は来期に確保予定とのこと。", "展示会で名刺交換。インサイドセールスの立ち上げに関心あり。",
	"既存のSFAからの移行を検討。データ移行の工数が懸念点。"}
var noteBodiesEN = []string{"Decision maker is the VP of Sales. Evaluating before the next fiscal year.", "Currently on spreadsheets; no MA tool yet.",
	"Comparing with a competitor; API integration matters most.", "Budget expected next quarter."}

// Marketing-site pages the event stream visits.
const siteURL = "https://www.ryorin-cloud.example"

var sitePages = []string{"/", "/pricing", "/features", "/features/ma", "/features/sfa", "/features/inside-sales", "/blog/ma-sfa-integration",
	"/blog/lead-scoring-basics", "/blog/inside-sales-kpi", "/blog/tokutei-denshi-mail-law", "/blog/pipeline-management",
	"/blog/abm-for-btob", "/case-studies/manufacturing", "/case-studies/saas", "/security", "/about"}

var contentPages = []struct{ path, title string }{
	{"/resources/ma-selection-guide", "MAツール選定ガイド 2026"}, {"/resources/inside-sales-playbook", "インサイドセールス立ち上げプレイブック"},
	{"/resources/lead-nurturing-checklist", "リードナーチャリング実践チェックリスト"}, {"/resources/crm-migration-guide", "CRM移行ガイド"},
}

var forms = []struct{ path, name string }{
	{"/resources/ma-selection-guide", "資料請求"}, {"/contact", "お問い合わせ"}, {"/demo", "デモ依頼"},
	{"/webinar/inside-sales-2026", "ウェビナー申込"}, {"/newsletter", "ニュースレター登録"},
}
