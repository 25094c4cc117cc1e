// Package quote owns the arithmetic and the printed form of a quotation
// (御見積書 / Quotation): line totals, consumption tax computed once per
// document per tax rate as the qualified invoice rules (インボイス制度) ask,
// the seller's registration number (登録番号), and the PDF with its embedded
// Japanese font. It works in minor units of a currency and imports nothing of
// ours but i18n (for the document's labels); storage lives in sales.
package quote
