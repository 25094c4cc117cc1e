package track

import "strings"

// botMarkers are user-agent fragments of crawlers, link previewers, HTTP
// libraries and automated or headless browsers. Lower case.
var botMarkers = []string{
	"bot", "crawl", "spider", "slurp", "scrape", "archiver", "fetcher", "preview", "monitor", "uptime",
	"headlesschrome", "phantomjs", "puppeteer", "playwright", "selenium", "webdriver", "electron/", "lighthouse",
	"pagespeed", "gtmetrix", "facebookexternalhit", "embedly", "quora link", "whatsapp", "hatena",
	"curl/", "wget/", "python-requests", "python-urllib", "aiohttp", "go-http-client", "java/", "okhttp",
	"node-fetch", "axios/", "libwww", "httpclient", "postmanruntime", "insomnia",
}

// IsBot reports whether a request looks automated: an empty or bot user
// agent, or a browser that says it is driven by automation.
func IsBot(userAgent string, webdriver bool) bool {
	if webdriver {
		return true
	}
	ua := strings.ToLower(strings.TrimSpace(userAgent))
	if len(ua) < 10 || !strings.Contains(ua, "mozilla/") && !strings.Contains(ua, "opera") {
		return true
	}
	for _, m := range botMarkers {
		if strings.Contains(ua, m) {
			return true
		}
	}
	return false
}
