package platform

// SMTPSettings are the outbound mail server settings of a workspace. The
// password is a secret: it is never logged, audited or returned by the API.
type SMTPSettings struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
	Password string `json:"password"`
	// TLS is "starttls" (default), "tls" (implicit, port 465) or "none".
	TLS         string `json:"tls"`
	FromAddress string `json:"from_address"`
	FromName    string `json:"from_name"`
}
