/*
 * trim.c - separating what the victim wrote from quotes and signatures
 *
 * SYNOPSIS
 *	struct cm_trim t;
 *	cm_trim_text(msg->body, &t);       (or cm_trim_html(html, len, &t))
 *	store(t.body, t.quoted, t.signature);
 *	cm_trim_clear(&t);
 *
 * DESCRIPTION
 *	Linear in the input and without regular expressions: every test
 *	is a fixed-string comparison on one line, or on at most
 *	HEADER_LINES lines joined (at most HEADER_MAX bytes), and only
 *	lines that end as a quote header does (':' or a full-width colon)
 *	are joined at all.
 *
 *	The text is cut at the first line that starts earlier mail:
 *
 *	- a quote header: a line (or up to HEADER_LINES lines: clients wrap
 *	  it) ending in ':' that holds a "wrote" verb in one of the common
 *	  languages (wrote, a écrit, schrieb, escribió, ha scritto, skrev,
 *	  schreef, napisal, kirjoitti, Russian, Chinese, Korean, Japanese,
 *	  escreveu...) and
 *	  a digit or '@' (a date, an address); or a line ending in ':' that
 *	  holds an address and a time or date ("2014-03-20 8:48 GMT+01:00
 *	  Name <a@b>:");
 *	- an Outlook header block: a From label (From, De, Von, Van, Fra,
 *	  Fran, Od, Da, Lahettaja, Russian, Chinese...) followed by
 *	  Sent/Date/To/Subject
 *	  labels in the next lines, or a From label whose value is an
 *	  address; also the whole block on one line; a Date/Sent label
 *	  with a full date and time followed by one more label and a
 *	  blank line (or the end);
 *	- a header block known by its shape alone, in any language: three
 *	  or more "Label: value" lines starting a paragraph, one value an
 *	  address, one a date or time (Outlook's Von/Gesendet/An/Betreff,
 *	  Da/Inviato/A/Oggetto, De la/Trimis/Catre/Subiect...);
 *	- a delimiter line of punctuation ("-----", "*~*~*", "====", a
 *	  line of U+2500, or a title between runs of them whatever its
 *	  words) right above a header block or a quote header;
 *	- a separator: "-----Original Message-----" and its translations, a
 *	  dashed title naming a message ("---------- Forwarded message
 *	  ---------", "---- On ... wrote ----"), "Begin forwarded message:",
 *	  a line of 20 or more underscores, or a line of dashes right above
 *	  an Outlook block.
 *
 *	A quote header that only introduces a '>' block followed by more
 *	text of the writer (a bottom-posted or interleaved reply) does not
 *	cut: the answers stay with the questions they answer. Without a
 *	header, a trailing block of '>' lines (and blank lines) is cut,
 *	with a "... wrote:" line or a "date Name <a@b>" attribution (date
 *	first, address in angle brackets last) right above it.
 *
 *	Before the cut, the signature is the last "-- " (or "--", or "__")
 *	line and what follows when that is at most SIG_MAX_LINES non-blank
 *	lines, or a mobile client's line near the end ("Sent from my
 *	iPhone", "Get Outlook for Android", "Envoyé de mon iPhone", "Von
 *	meinem iPhone gesendet"...), or a last line "-Name", or a sign-off:
 *	a complimentary close alone on its line ("Kind regards,", "Mit
 *	freundlichen Grüßen", "Cordialement"...), then a line that reads
 *	as a name (capitalised words only), then at most SIGNOFF_EXTRA
 *	short lines (title, telephone) and nothing else.
 *
 *	A quote header may also have no verb at all: a date or time, then
 *	the writer's address in angle brackets, then at most ATTR_WORDS
 *	words and the colon (Gmail in Russian and other locales, Yandex,
 *	Mail.ru, Apple Mail's translations). A '>' block with none of the
 *	writer's lines below it, right above the cut, goes with the cut
 *	(a bottom-posted reply above a mailing list's footer).
 *
 *	A forwarded message (Gmail's "---------- Forwarded message
 *	---------", Apple Mail's "Begin forwarded message:", Thunderbird's
 *	"-------- Forwarded Message --------" and their translations) is
 *	what the writer passes on, never a quote: it stays in body whole,
 *	and its header lines (From, Date/Sent, Subject, To in any of the
 *	known languages) and its text are read apart into the fwd_ fields;
 *	only the writer's lines above it may end with a signature. An HTML
 *	forward inside Gmail's quote block is read the same way. Outlook
 *	writes a forward exactly as it quotes a reply ("-----Original
 *	Message-----", a From/Sent/To/Subject block): given the subject
 *	(cm_trim_text_subject), a "FW:"/"Fwd:"/"WG:"/"TR:"... subject makes
 *	that block a forward too.
 *
 *	Rules written while looking at one of the public test corpora say
 *	so (cm_fit_on) so that make eval can score each corpus without
 *	them.
 *
 *	A reply is never trimmed to nothing: if no text would be left, body
 *	is the whole text and nothing is reported as removed.
 *
 *	cm_trim_html cuts the HTML structure first (cm_html_split) and
 *	trims the text of what is left.
 *
 * SECURITY
 *	Linear time and memory; the output is the input's own bytes with
 *	CRLF turned into LF.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cm_fit.h"
#include "cm_html.h"
#include "cm_trim.h"
#include "cm_util.h"

#define SIG_MAX_LINES 10  /* non-blank lines after a "-- " signature */
#define HEADER_MAX 400    /* bytes of a quote header, all lines */
#define HEADER_LINES 6    /* lines a quote header may be wrapped over */
#define OUTLOOK_WINDOW 6  /* lines after "From:" holding Sent:/Subject: */
#define RULE_MIN 20       /* underscores in a separator line */
#define MOBILE_TAIL 4     /* non-blank last lines a mobile line may lead */
#define LABEL_MAX 32      /* bytes of a field label ("Gesendet") */
#define FIELD_LINES 8     /* field lines of a quoted header block */
#define FWD_VALUE 300     /* bytes kept of a forwarded header value */
#define NAME_MAX 40       /* bytes of a name line after a close */
#define SIGNOFF_EXTRA 2   /* lines after the name in a sign-off */
#define ATTR_WORDS 3      /* words between an attribution's address and
			     its colon */

/* One line of the normalised text: s[off .. off+len). */
struct line {
	size_t off;
	size_t len;
};

/* The text split into lines. */
struct text {
	char *s;          /* normalised copy, LF only */
	struct line *l;
	size_t n;
};

/* "wrote" in the languages of quote headers (lower case, UTF-8). */
static const char *const verbs[] = {
	"wrote", "writes", "a \xc3\xa9" "crit", "schrieb", "escribi\xc3\xb3",
	"escribio", "ha escrito", "ha scritto", "scrisse", "skrev",
	"schreef", "napisa\xc5\x82", "napisal", "kirjoitti",
	"\xd0\xbd\xd0\xb0\xd0\xbf\xd0\xb8\xd1\x81\xd0\xb0\xd0\xbb",
	"\xd0\xbf\xd0\xb8\xd1\x88\xd0\xb5\xd1\x82",
	"\xe5\x86\x99\xe9\x81\x93",
	"\xe5\xaf\xab\xe9\x81\x93",
	"\xec\x9e\x91\xec\x84\xb1",
	"\xe3\x81\xae\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab",
	"\xe6\x9b\xb8\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x97\xe3\x81\x9f",
	"escreveu", "va escriure", "yazd\xc4\xb1", "\xc3\xadrta", "napsal",
	"nap\xc3\xadsal", "\xce\xad\xce\xb3\xcf\x81\xce\xb1\xcf\x88\xce\xb5",
	"kirjutas", "ra\xc5\xa1\xc4\x97", "rakst\xc4\xabja", "a scris",
	"\xd0\xbd\xd0\xb0\xd0\xbf\xd0\xb8\xd1\x81\xd0\xb0",
	"viết", "skrifa\xc3\xb0i", "kirjoittaa",
	/* Apple Mail in Dutch: "Op <date> heeft <Name> <a@b> het volgende
	 * geschreven:" */
	"geschreven",
};

/* Labels of an Outlook header block, by role (lower case). */
static const char *const from_labels[] = {
	"from", "de", "von", "van", "fra", "fr\xc3\xa5n", "od", "da",
	"l\xc3\xa4hett\xc3\xa4j\xc3\xa4", "\xd0\xbe\xd1\x82", "kimden",
	"felad\xc3\xb3", "afzender", "mittente", "remetente", "frá",
	"t\xe1\xbb\xab",
	"\xe5\x8f\x91\xe4\xbb\xb6\xe4\xba\xba",
	"\xe5\xb7\xae\xe5\x87\xba\xe4\xba\xba",
	"\xeb\xb3\xb4\xeb\x82\xb8 \xec\x82\xac\xeb\x9e\x8c",
};
static const char *const other_labels[] = {
	"sent", "date", "to", "subject", "cc", "envoy\xc3\xa9",
	"envoy\xc3\xa9 le",
	"\xc3\xa0", "a", "objet", "gesendet", "an", "betreff", "datum",
	"verzonden", "aan", "onderwerp", "sendt", "til", "emne", "dato",
	"skickat", "till", "\xc3\xa4mne", "enviado", "para", "asunto",
	"assunto", "fecha", "data", "inviato", "oggetto", "wys\xc5\x82" "ano",
	"do", "temat", "l\xc3\xa4hetetty", "vastaanottaja", "aihe",
	"p\xc3\xa4iv\xc3\xa4m\xc3\xa4\xc3\xa4r\xc3\xa4",
	"\xd0\xbe\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0"
	"\xbd\xd0\xbe", "\xd0\xba\xd0\xbe\xd0\xbc\xd1\x83",
	"\xd1\x82\xd0\xb5\xd0\xbc\xd0\xb0", "\xd0\xb4\xd0\xb0\xd1\x82\xd0\xb0",
	"kopie", "copie", "k\xc3\xb6" "ld\xc3\xb6tt", "t\xc3\xa1rgy",
	"c\xc3\xadmzett", "odesl\xc3\xa1no", "komu", "p\xc5\x99" "edm\xc4\x9bt",
	"g\xc3\xb6nderildi", "kime", "konu", "sent by",
	"\xe5\x8f\x91\xe9\x80\x81\xe6\x97\xb6\xe9\x97\xb4",
	"\xe6\x94\xb6\xe4\xbb\xb6\xe4\xba\xba",
	"\xe4\xb8\xbb\xe9\xa2\x98", "\xe6\x8a\x84\xe9\x80\x81",
	"\xe6\x97\xa5\xe6\x9c\x9f",
	"\xe9\x80\x81\xe4\xbf\xa1\xe6\x97\xa5\xe6\x99\x82",
	"\xe5\xae\x9b\xe5\x85\x88", "\xe4\xbb\xb6\xe5\x90\x8d",
	"\xeb\xb0\x9b\xeb\x8a\x94 \xec\x82\xac\xeb\x9e\x8c",
	"\xec\xa0\x9c\xeb\xaa\xa9", "\xeb\x82\xa0\xec\xa7\x9c",
};

/* Words of a dashed separator title (lower case). */
static const char *const sep_words[] = {
	"original", "forward", "message", "nachricht", "mensaje",
	"messaggio", "bericht", "melding", "meddel", "wiadomo",
	"mensagem", "zpr\xc3\xa1va", "viesti", "origine", "reply",
	"\xd1\x81\xd0\xbe\xd0\xbe\xd0\xb1\xd1\x89\xd0\xb5\xd0\xbd\xd0\xb8",
	"wrote", "weitergeleitet", "transf\xc3\xa9r\xc3\xa9", "reenviado",
	"inoltrato", "doorgestuurd", "videresendt", "vidarebefordrat",
	"przekazana", "encaminhada", "besked", "beskjed", "meldung",
};

/* Lines that start a forwarded message (lower case prefixes). */
static const char *const fwd_starts[] = {
	"begin forwarded message", "forwarded message",
	"anfang der weitergeleiteten", "d\xc3\xa9" "but du message",
	"inicio del mensaje reenviado", "inizio messaggio inoltrato",
	"begin doorgestuurd bericht",
};

/* "Forwarded" in the titles clients put above a forwarded message
 * (lower case): Gmail "---------- Forwarded message ---------" and its
 * translations, Thunderbird "-------- Forwarded Message --------". */
static const char *const fwd_words[] = {
	"forward", "weitergeleitet", "transf\xc3\xa9r\xc3\xa9", "reenviado",
	"inoltrato", "doorgestuurd", "videresendt", "vidarebefordrat",
	"przekazana", "encaminhada", "edelleenl\xc3\xa4hetetty",
	"p\xc5\x99" "eposlan", "tov\xc3\xa1" "bb\xc3\xadtott",
	"iletilen",
	"\xd0\xbf\xd0\xb5\xd1\x80\xd0\xb5\xd1\x81\xd0\xbb", /* пересл */
	"\xe8\xbd\xac\xe5\x8f\x91", /* 转发 */
	"\xe8\xbb\xa2\xe9\x80\x81", /* 転送 */
	"\xec\xa0\x84\xeb\x8b\xac", /* 전달 */
};

/* Labels of a forwarded message's header lines, by role (lower case):
 * the from_labels above, then these. */
static const char *const date_labels[] = {
	"date", "sent", "datum", "envoy\xc3\xa9", "envoy\xc3\xa9 le",
	"gesendet", "fecha", "enviado", "data", "inviato", "verzonden",
	"sendt", "skickat", "dato", "wys\xc5\x82" "ano", "l\xc3\xa4hetetty",
	"p\xc3\xa4iv\xc3\xa4m\xc3\xa4\xc3\xa4r\xc3\xa4", "odesl\xc3\xa1no",
	"g\xc3\xb6nderildi", "tarih",
	"\xd0\xb4\xd0\xb0\xd1\x82\xd0\xb0",
	"\xd0\xbe\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0"
	"\xb5\xd0\xbd\xd0\xbe",
	"\xe6\x97\xa5\xe6\x9c\x9f", "\xe5\x8f\x91\xe9\x80\x81\xe6\x97\xb6"
	"\xe9\x97\xb4", "\xe9\x80\x81\xe4\xbf\xa1\xe6\x97\xa5\xe6\x99\x82",
	"\xeb\x82\xa0\xec\xa7\x9c",
};
static const char *const subject_labels[] = {
	"subject", "betreff", "objet", "oggetto", "asunto", "assunto",
	"onderwerp", "emne", "\xc3\xa4mne", "temat", "aihe", "konu",
	"t\xc3\xa1rgy", "p\xc5\x99" "edm\xc4\x9bt",
	"\xd1\x82\xd0\xb5\xd0\xbc\xd0\xb0",
	"\xe4\xb8\xbb\xe9\xa2\x98", "\xe4\xbb\xb6\xe5\x90\x8d",
	"\xec\xa0\x9c\xeb\xaa\xa9",
};
static const char *const to_labels[] = {
	"to", "an", "\xc3\xa0", "a", "aan", "para", "til", "till", "do",
	"komu", "kime", "c\xc3\xadmzett", "vastaanottaja",
	"\xd0\xba\xd0\xbe\xd0\xbc\xd1\x83",
	"\xe6\x94\xb6\xe4\xbb\xb6\xe4\xba\xba", "\xe5\xae\x9b\xe5\x85\x88",
	"\xeb\xb0\x9b\xeb\x8a\x94 \xec\x82\xac\xeb\x9e\x8c",
};

/* Mobile and app signatures (lower case prefixes of a line). */
static const char *const mobile_sigs[] = {
	"sent from my ", "sent from ", "sent with ", "sent via ",
	"sent using ", "sent on the go", "get outlook for",
	"envoy\xc3\xa9 de mon", "envoy\xc3\xa9 depuis", "von meinem",
	"gesendet von", "gesendet mit", "enviado desde", "enviado do meu",
	"enviado de mi", "inviato da", "verzonden vanaf", "verstuurd vanaf",
	"skickat fr\xc3\xa5n", "sendt fra", "l\xc3\xa4hetetty",
	"wys\xc5\x82" "ane z",
	"\xd0\xbe\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2"
	"\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe \xd1\x81",
	"download outlook for", "get the outlook app",
	"envoy\xc3\xa9 \xc3\xa0 partir de", "obtenir outlook pour",
	"holen sie sich outlook",
};

/* split - copy text with CRLF and lone CR as LF and index its lines */
static void
split(const char *text, struct text *t)
{
	size_t len = strlen(text), i, j = 0, start = 0, cap = 16;

	t->s = cm_xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (text[i] == '\r') {
			if (i + 1 < len && text[i + 1] == '\n')
				continue;
			t->s[j++] = '\n';
		} else {
			t->s[j++] = text[i];
		}
	}
	t->s[j] = '\0';
	len = j;
	t->l = cm_xmalloc(cap * sizeof(*t->l));
	t->n = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && t->s[i] != '\n')
			continue;
		if (i == len && start == len && len > 0)
			break; /* text ends with a newline */
		if (t->n == cap) {
			cap *= 2;
			t->l = cm_xrealloc(t->l, cap * sizeof(*t->l));
		}
		t->l[t->n].off = start;
		t->l[t->n].len = i - start;
		t->n++;
		start = i + 1;
	}
}

/* strip - the line without leading and trailing blanks (and U+00A0) */
static const char *
strip(const struct text *t, size_t i, size_t *len_r)
{
	const char *p = t->s + t->l[i].off;
	size_t n = t->l[i].len;

	for (;;) {
		if (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		} else if (n >= 2 && (unsigned char)p[0] == 0xc2 &&
			   (unsigned char)p[1] == 0xa0) {
			p += 2;
			n -= 2;
		} else {
			break;
		}
	}
	for (;;) {
		if (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		else if (n >= 2 && (unsigned char)p[n - 2] == 0xc2 &&
			 (unsigned char)p[n - 1] == 0xa0)
			n -= 2;
		else
			break;
	}
	*len_r = n;
	return p;
}

/* blank - true if line i holds only white space */
static bool
blank(const struct text *t, size_t i)
{
	size_t n;

	(void)strip(t, i, &n);
	return n == 0;
}

/* lower - lower-case ASCII copy of p[0..n) into buf[cap]; its length */
static size_t
lower(const char *p, size_t n, char *buf, size_t cap)
{
	size_t i;

	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		buf[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32)
						      : p[i];
	buf[n] = '\0';
	return n;
}

/* prefix_of - true if lower-case buf starts with a prefix of list */
static bool
prefix_of(const char *buf, size_t n, const char *const *list,
	  size_t count)
{
	size_t i, k;

	for (i = 0; i < count; i++) {
		k = strlen(list[i]);
		if (n >= k && memcmp(buf, list[i], k) == 0)
			return true;
	}
	return false;
}

/* colon_end - true if p[0..n) ends with ':' or a full-width colon */
static bool
colon_end(const char *p, size_t n)
{
	return (n > 0 && p[n - 1] == ':') ||
	       (n >= 3 && (unsigned char)p[n - 3] == 0xef &&
		(unsigned char)p[n - 2] == 0xbc &&
		(unsigned char)p[n - 1] == 0x9a);
}

/* has_digit - true if p[0..n) holds an ASCII digit */
static bool
has_digit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] >= '0' && p[i] <= '9')
			return true;
	return false;
}

/* has_time - true if p[0..n) holds "d:dd" or a 4-digit year */
static bool
has_time(const char *p, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (p[i] >= '0' && p[i] <= '9') {
			if (++run == 4)
				return true;
			if (i + 3 < n && p[i + 1] == ':' && p[i + 2] >= '0' &&
			    p[i + 2] <= '9' && p[i + 3] >= '0' &&
			    p[i + 3] <= '9')
				return true;
		} else {
			run = 0;
		}
	}
	return false;
}

/*
 * addr_attribution - true if buf[0..n) (lower case, joined, ending in
 * ':') is an attribution that names the writer of the quote by a date
 * or time and then an address in angle brackets, with at most
 * ATTR_WORDS words between the closing '>' and the colon. Clients that
 * write no "wrote" verb, or one in a language not listed, all put the
 * address last: Gmail in Russian and other locales ("ср, 30 апр. 2025
 * г. в 15:19, Name <a@b>:"), Gmail's older locale format
 * ("2014-10-17 11:28 GMT+03:00 Name <a@b>:"), Yandex ("30.09.2017,
 * 18:30, \"Name\" <a@b>:"), Mail.ru ("Thu, 26 Jun 2014 14:00:51 +0400
 * от Name <a@b>:"), Apple Mail ("On 11-Apr-2011, at 6:54 PM, Name
 * <a@b> wrote:") and its translations ("... <a@b> het volgende
 * geschreven:").
 */
static bool
addr_attribution(const char *buf, size_t n)
{
	const char *gt, *lt, *at;
	size_t k, words = 0;

	if (n < 10 || n > 250 || !colon_end(buf, n))
		return false;
	gt = memrchr(buf, '>', n);
	if (gt == NULL || gt == buf)
		return false;
	lt = memrchr(buf, '<', (size_t)(gt - buf));
	if (lt == NULL || lt == buf)
		return false;
	at = memchr(lt, '@', (size_t)(gt - lt));
	/* a client that wraps the line may break it right after '<' */
	while (lt + 1 < gt && lt[1] == ' ')
		lt++;
	if (at == NULL || memchr(lt + 1, ' ', (size_t)(at - lt)) != NULL ||
	    !has_time(buf, (size_t)(lt - buf)))
		return false;
	/* words between the address and the colon ("wrote", "sent",
	 * "het volgende geschreven", "a écrit :" with its lone colon) */
	for (k = (size_t)(gt - buf) + 1; k < n; k++)
		if (buf[k] != ' ' && buf[k - 1] == ' ')
			words++;
	return words <= ATTR_WORDS;
}

/* header_text - true if buf[0..n) (lower case, joined) is a quote
 * header */
static bool
header_text(const char *buf, size_t n)
{
	if (!colon_end(buf, n))
		return false;
	if (!has_digit(buf, n) && memchr(buf, '@', n) == NULL)
		return false;
	if (cm_mem_has_any(buf, n, verbs, CM_ARRAY_SIZE(verbs)))
		return true;
	if (addr_attribution(buf, n))
		return true;
	/* "2014-03-20 8:48 GMT+01:00 Name <a@b.example>:", as the talon
	 * and crisp test mail has it */
	return cm_fit_on(CM_FIT_TALON | CM_FIT_CRISP) &&
	       memchr(buf, '@', n) != NULL && has_time(buf, n) && n < 250 &&
	       (memchr(buf, '<', n) != NULL || buf[n - 2] != ' ');
}

/* addr_cont - true if lower-case line buf[0..n) continues an address
 * wrapped from the line before ("<" then "a@b.example> wrote:") */
static bool
addr_cont(const char *buf, size_t n)
{
	size_t k;

	if (n > 0 && (buf[0] == '<' || buf[0] == '('))
		return true;
	if (n >= 7 && memcmp(buf, "mailto:", 7) == 0)
		return true;
	for (k = 0; k < n && buf[k] != ' '; k++)
		if (buf[k] == '@')
			return true;
	return false;
}

/* is_quote - true if line i is a '>' quote line */
static bool
is_quote(const struct text *t, size_t i)
{
	size_t n;
	const char *p = strip(t, i, &n);

	return n > 0 && *p == '>';
}

/*
 * quote_header - the number of lines (1..HEADER_LINES) of the quote
 * header starting at line i, or 0. Lines are joined only up to a line
 * that ends like a header, so a text without colons costs one look.
 */
static size_t
quote_header(const struct text *t, size_t i)
{
	char buf[HEADER_MAX + 1];
	const char *p;
	size_t n, k, len = 0, m;
	bool gap = false;

	p = strip(t, i, &n);
	if (n == 0 || *p == '>' || n > HEADER_MAX)
		return 0;
	for (k = 0; k < HEADER_LINES && i + k < t->n; k++) {
		p = strip(t, i + k, &n);
		if (k > 0) {
			while (n > 0 && *p == '>') {
				p++;
				n--;
			}
			if (len + 1 + n > HEADER_MAX)
				return 0;
			if (n > 0)
				buf[len++] = ' ';
		}
		m = lower(p, n, buf + len, sizeof(buf) - len);
		if (k == 0 && !colon_end(buf, m) && !has_digit(buf, m) &&
		    memchr(buf, '@', m) == NULL)
			return 0; /* a wrapped header starts with a date */
		if (n == 0)
			gap = true;
		if (k > 0 && colon_end(buf + len, m) &&
		    header_text(buf + len, m) && !addr_cont(buf + len, m) &&
		    (gap || has_digit(buf + len, m)))
			return 0; /* the header starts on this later line */
		len += m;
		if (colon_end(buf, len))
			return header_text(buf, len) ? k + 1 : 0;
		if (n > 80 || (n > 0 && strchr(".!?", p[n - 1]) != NULL))
			return 0;
	}
	return 0;
}

/* label_at - if p[0..n) starts with a label of list then ':', the
 * offset after the colon, else 0 */
static size_t
label_at(const char *p, size_t n, const char *const *list, size_t count)
{
	char buf[64];
	size_t i, k, j, m;

	while (n > 0 && (*p == '*' || *p == '>')) {
		p++;
		n--;
	}
	m = lower(p, n < 40 ? n : 40, buf, sizeof(buf));
	for (i = 0; i < count; i++) {
		k = strlen(list[i]);
		if (m < k + 1 || memcmp(buf, list[i], k) != 0)
			continue;
		j = k;
		for (;;) {
			if (j < m && (buf[j] == ' ' || buf[j] == '*'))
				j++;
			else if (j + 1 < m && (unsigned char)buf[j] == 0xc2 &&
				 (unsigned char)buf[j + 1] == 0xa0)
				j += 2;
			else
				break;
		}
		if (j < m && buf[j] == ':')
			return j + 1;
		if (j + 2 < m && (unsigned char)buf[j] == 0xef &&
		    (unsigned char)buf[j + 1] == 0xbc &&
		    (unsigned char)buf[j + 2] == 0x9a)
			return j + 3;
	}
	return 0;
}

/* value_is_address - true if the value after a From label is a name
 * and an address and nothing else */
static bool
value_is_address(const char *p, size_t n)
{
	const char *at = memchr(p, '@', n);

	if (at == NULL || n > 200)
		return false;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '*'))
		n--;
	return n > 0 && (p[n - 1] == '>' || p[n - 1] == ']' ||
			 memchr(at, ' ', n - (size_t)(at - p)) == NULL);
}

/* outlook_block - true if line i starts an Outlook header block */
static bool
outlook_block(const struct text *t, size_t i)
{
	char buf[HEADER_MAX + 1];
	const char *p, *q;
	size_t n, qn, j, k, m, seen = 0, labels = 0;

	p = strip(t, i, &n);
	q = p;
	qn = n;
	while (qn > 0 && (*q == '*' || *q == '>')) {
		q++;
		qn--;
	}
	k = label_at(q, qn, from_labels, CM_ARRAY_SIZE(from_labels));
	if (k == 0)
		return false;
	/* all labels on one line */
	m = lower(q, qn, buf, sizeof(buf));
	if (m > k && (memmem(buf, m, " sent:", 6) != NULL ||
		      memmem(buf, m, " subject:", 9) != NULL) &&
	    memmem(buf, m, " to:", 4) != NULL)
		return true;
	for (j = i + 1; j < t->n && seen < OUTLOOK_WINDOW; j++) {
		p = strip(t, j, &n);
		if (n == 0)
			continue;
		seen++;
		if (label_at(p, n, other_labels, CM_ARRAY_SIZE(other_labels)))
			labels++;
		else if (labels == 0 && seen > 2)
			break;
	}
	return labels >= 1 || value_is_address(q + k, qn - k);
}

/* punct_char - the length of the punctuation character at p[0..n)
 * that delimiter lines are drawn with ('-', '_', '=', '*', '~', '#',
 * '+', '.', '|', '<', '>', and the dashes and box-drawing lines of
 * UTF-8), or 0 */
static size_t
punct_char(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;

	if (n > 0 && strchr("-_=*~#+.|<>", p[0]) != NULL && p[0] != '\0')
		return 1;
	/* U+2013 U+2014 U+2015, U+2500 U+2501 U+2550 */
	if (n >= 3 && u[0] == 0xe2 &&
	    ((u[1] == 0x80 && u[2] >= 0x93 && u[2] <= 0x95) ||
	     (u[1] == 0x94 && (u[2] == 0x80 || u[2] == 0x81)) ||
	     (u[1] == 0x95 && u[2] == 0x90)))
		return 3;
	return 0;
}

/* punct_run - the number of punctuation characters p[0..n) starts
 * with, and their bytes in *bytes_r */
static size_t
punct_run(const char *p, size_t n, size_t *bytes_r)
{
	size_t k = 0, c, count = 0;

	while (k < n && (c = punct_char(p + k, n - k)) > 0) {
		k += c;
		count++;
	}
	*bytes_r = k;
	return count;
}

/*
 * delimiter - true if line i is a delimiter: only punctuation (at least
 * three characters: "-----", "________", "====", "*****", a line of
 * U+2500), or a title between runs of punctuation ("----- Mensaje
 * original -----", "==== Any words ===="), whatever its words. Either
 * counts as the start of earlier mail only when a header block or a
 * quote header follows within two lines (see delimited).
 */
static bool
delimiter(const struct text *t, size_t i)
{
	const char *p;
	size_t n, k, c, tail;

	p = strip(t, i, &n);
	if (n == 0 || n > HEADER_MAX)
		return false;
	c = punct_run(p, n, &k);
	if (k == n)
		return c >= 3;
	if (c < 2)
		return false;
	/* a title: the line also ends with two or more of them */
	for (tail = 0; n > k && tail < 2;) {
		if (punct_char(p + n - 1, 1) == 1) {
			n--;
			tail++;
		} else if (n >= 3 && punct_char(p + n - 3, 3) == 3) {
			n -= 3;
			tail++;
		} else {
			break;
		}
	}
	return tail == 2 && n - k <= 80;
}

/*
 * field_label - if p[0..n) starts as a header field does ("Label:
 * value": one to three words of letters in any script, no digit, at
 * most LABEL_MAX bytes, then ':' or a full-width colon, then a blank or
 * the end), the offset after the colon, else 0. Bold markers and '>'
 * before the label are skipped ("*From:* Name", HTML mail made text).
 */
static size_t
field_label(const char *p, size_t n)
{
	size_t k = 0, b, words = 1;
	unsigned char c;

	while (k < n && (p[k] == '*' || p[k] == '>' || p[k] == ' '))
		k++;
	b = k;
	for (; k < n && k - b <= LABEL_MAX; k++) {
		c = (unsigned char)p[k];
		if (c == ':' || (c == 0xef && k + 2 < n &&
				 (unsigned char)p[k + 1] == 0xbc &&
				 (unsigned char)p[k + 2] == 0x9a))
			break;
		if (c == ' ') {
			if (p[k - 1] == ' ')
				return 0;
			if (k + 1 < n && p[k + 1] != ':' && ++words > 3)
				return 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c >= 0x80 || (k > b && (c == '-' || c == '.' ||
					      c == '*'))))
			return 0;
	}
	if (k == b || k >= n || k - b > LABEL_MAX)
		return 0;
	k += p[k] == ':' ? 1 : 3;
	if (k < n && p[k] != ' ' && p[k] != '*' && p[k] != '\t')
		return 0; /* "http://", "12:30" */
	return k;
}

/* value_address - 2 if p[0..n) holds an address in brackets as mail
 * clients quote it ("Name <a@b.c>", "Name [mailto:a@b.c]"), 1 for a
 * bare a@b.c, else 0 */
static int
value_address(const char *p, size_t n)
{
	const char *at = memchr(p, '@', n);

	if (at == NULL || at == p ||
	    memchr(at, '.', n - (size_t)(at - p)) == NULL)
		return 0;
	return memchr(p, '<', n) != NULL || memmem(p, n, "mailto:", 7) != NULL
		       ? 2 : 1;
}

/*
 * field_block - true if line i starts a quoted header block recognised
 * by its shape alone, whatever the language of its labels: at least
 * three lines in a row that read "Label: value", one value with an
 * address and one with a date or time, the address in the first line
 * unless the block has four lines or more, and a bare address (not in
 * angle brackets or after "mailto:") only in a block of four lines or
 * more. That is how Outlook writes the block in every language
 * (Von/Gesendet/An/Betreff, Da/Inviato/A/Oggetto, De/Envoyé/À/Objet,
 * Van/Verzonden/Aan/Onderwerp...), and how Thunderbird and Apple Mail
 * head a quoted or forwarded message (Subject/Date/From/To). It must
 * start a paragraph (or follow a delimiter line), and the paragraph
 * before must not end with ':', so a list the writer wrote or
 * introduced ("Details:", "Name: ...") is not taken for one.
 */
static bool
field_block(const struct text *t, size_t i)
{
	const char *p, *q;
	size_t j, k, n, lines = 0;
	int a, addr = 0;
	bool when = false, first = false;

	if (blank(t, i) || (i > 0 && !blank(t, i - 1) && !delimiter(t, i - 1)))
		return false;
	/* the paragraph before (a bounded look back keeps this linear) */
	for (j = i; j > 0 && i - j < FIELD_LINES && blank(t, j - 1); j--)
		;
	if (j > 0) {
		p = strip(t, j - 1, &n);
		if (colon_end(p, n))
			return false;
	}
	for (j = i; j < t->n && lines < FIELD_LINES; j++) {
		p = strip(t, j, &n);
		if (n == 0 || n > HEADER_MAX || (k = field_label(p, n)) == 0)
			break;
		q = p + k;
		if ((a = value_address(q, n - k)) > 0) {
			addr = a > addr ? a : addr;
			first = first || lines == 0;
		}
		if (has_time(q, n - k))
			when = true;
		lines++;
	}
	if (addr == 1 && lines < 4)
		return false;
	return lines >= 3 && addr > 0 && when && (first || lines >= 4);
}

/* dashed_title - true if p[0..n) is "--- words ---" naming a message */
static bool
dashed_title(const char *p, size_t n)
{
	char buf[HEADER_MAX + 1];
	size_t k, m;

	for (k = 0; k < n && (p[k] == '-' || p[k] == '=' || p[k] == '_');
	     k++)
		;
	if (k < 2 || k == n || n > HEADER_MAX)
		return false;
	m = lower(p + k, n - k, buf, sizeof(buf));
	if (k >= 5 && m > 5 && memcmp(buf + m - 5, "-----", 5) == 0)
		return true; /* "----- Title -----" */
	return cm_mem_has_any(buf, m, sep_words, CM_ARRAY_SIZE(sep_words)) ||
	       cm_mem_has_any(buf, m, verbs, CM_ARRAY_SIZE(verbs));
}

/* rule - true if p[0..n) is only c, at least min times */
static bool
rule(const char *p, size_t n, char c, size_t min)
{
	size_t k;

	for (k = 0; k < n && p[k] == c; k++)
		;
	return k == n && k >= min;
}

/* separator - true if line i starts an original or forwarded message */
static bool
separator(const struct text *t, size_t i)
{
	char buf[128];
	const char *p;
	size_t n, m, j, seen;

	p = strip(t, i, &n);
	if (n == 0)
		return false;
	m = lower(p, n, buf, sizeof(buf));
	while (m > 0 && (buf[0] == '-' || buf[0] == ' ' || buf[0] == '*')) {
		memmove(buf, buf + 1, m);
		m--;
	}
	if (prefix_of(buf, m, fwd_starts, CM_ARRAY_SIZE(fwd_starts)))
		return true;
	if (dashed_title(p, n))
		return true;
	/* Hotmail and Outlook Web draw a line of underscores alone */
	if (rule(p, n, '_', RULE_MIN))
		return true;
	if (!delimiter(t, i))
		return false;
	/* a delimiter right above a header block or a quote header */
	for (j = i + 1, seen = 0; j < t->n && seen < 2; j++) {
		if (blank(t, j))
			continue;
		seen++;
		if (outlook_block(t, j) || field_block(t, j) ||
		    quote_header(t, j) > 0)
			return true;
	}
	return false;
}

/* verb_colon - true if line i ends with ':' and holds a "wrote" verb */
static bool
verb_colon(const struct text *t, size_t i)
{
	char buf[HEADER_MAX + 1];
	const char *p;
	size_t n, m;

	p = strip(t, i, &n);
	if (n == 0 || n > HEADER_MAX || !colon_end(p, n))
		return false;
	m = lower(p, n, buf, sizeof(buf));
	return cm_mem_has_any(buf, m, verbs, CM_ARRAY_SIZE(verbs));
}

/* attribution - true if line i reads "date Name <a@b>" (an attribution
 * without a verb or colon: a date first, an address in angle brackets
 * last), as some clients put above a '>' block; seen in the crisp
 * test mail, so fitted on it */
static bool
attribution(const struct text *t, size_t i)
{
	const char *p;
	size_t n;

	p = strip(t, i, &n);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == ':'))
		n--;
	if (n < 8 || n > 200 || p[0] < '0' || p[0] > '9' ||
	    p[n - 1] != '>' || !has_time(p, n))
		return false;
	return memchr(p, '<', n) != NULL && memchr(p, '@', n) != NULL;
}

/* K_* - what a line is: the writer's, quoted, signature, forwarded */
enum { K_BODY = 0, K_QUOTE, K_SIG, K_FWD };
#define BODY_KINDS ((1u << K_BODY) | (1u << K_FWD)) /* what body shows */

/* wrapped - true if line i, not a '>' line, sits between '>' lines as
 * the rest of a long quoted line that a client wrapped */
static bool
wrapped(const struct text *t, size_t i)
{
	const char *p;
	size_t n, pn;

	if (i == 0 || i + 1 >= t->n || !is_quote(t, i - 1) ||
	    !is_quote(t, i + 1))
		return false;
	p = strip(t, i, &n);
	(void)strip(t, i - 1, &pn);
	return n > 0 && (pn >= 60 || memchr(p, ' ', n) == NULL);
}

/* quote_end - the first line after the '>' block starting at i (blank
 * and wrapped lines inside it included) that is neither, or t->n */
static size_t
quote_end(const struct text *t, size_t i)
{
	while (i < t->n && (is_quote(t, i) || blank(t, i) || wrapped(t, i)))
		i++;
	return i;
}

/* forward_mark - true if line i starts a forwarded message */
static bool
forward_mark(const struct text *t, size_t i)
{
	char buf[128];
	const char *p;
	size_t n, m, k;

	p = strip(t, i, &n);
	for (k = 0; k < n && (p[k] == '-' || p[k] == ' ' || p[k] == '*');
	     k++)
		;
	m = lower(p + k, n - k, buf, sizeof(buf));
	return prefix_of(buf, m, fwd_starts, CM_ARRAY_SIZE(fwd_starts)) ||
	       (k >= 2 && n < 100 &&
		cm_mem_has_any(buf, m, fwd_words, CM_ARRAY_SIZE(fwd_words)));
}

/* date_block - true if line i is a Date/Sent label line followed by at
 * least two more header labels (an Outlook block that starts with the
 * date) */
static bool
date_block(const struct text *t, size_t i)
{
	static const char *const first[] = { "date", "sent", "datum",
					      "envoy\xc3\xa9", "gesendet" };
	const char *p;
	size_t n, j, k, seen = 0, labels = 0;
	bool timed, closed = false;

	p = strip(t, i, &n);
	if ((k = label_at(p, n, first, CM_ARRAY_SIZE(first))) == 0)
		return false;
	timed = has_time(p + k, n - k) && has_digit(p + k, n - k);
	for (j = i + 1; j < t->n && seen < 4; j++) {
		p = strip(t, j, &n);
		if (n == 0) {
			/* a header block ends with a blank line */
			if (labels == 1)
				closed = true;
			continue;
		}
		seen++;
		if (label_at(p, n, other_labels,
			     CM_ARRAY_SIZE(other_labels)) ||
		    label_at(p, n, from_labels, CM_ARRAY_SIZE(from_labels)))
			labels++;
		else
			break;
	}
	/* a full date and time, one more label, then a blank line or the
	 * end is a block too */
	return labels >= 2 ||
	       (cm_fit_on(CM_FIT_TALON) && labels == 1 && timed &&
		(closed || j >= t->n));
}

/*
 * find_cut - mark quoted lines in kind[] and return the index of the
 * first line of the trailing quoted material (t->n if none). A quote
 * header followed by a '>' block is quoted together with the block and
 * the blank lines after it, wherever it is; the writer's text around it
 * stays. A forwarded message is never cut: it is what the writer sends;
 * *fwd_r is its first line (its title), or t->n.
 */
static size_t
find_cut(const struct text *t, unsigned char *kind, bool fwd_subject,
	 size_t *fwd_r)
{
	size_t i, j, h, e, q, end = t->n, cut;

	*fwd_r = t->n;
	for (i = 0; i < t->n && end == t->n; i++) {
		if (is_quote(t, i)) {
			i = quote_end(t, i) - 1;
			continue;
		}
		if (forward_mark(t, i)) {
			*fwd_r = i;
			return t->n;
		}
		h = quote_header(t, i);
		if (h > 0) {
			e = i + h;
			while (e < t->n && blank(t, e))
				e++;
			if (e < t->n && is_quote(t, e) &&
			    (q = quote_end(t, e)) < t->n) {
				/* header and block inside the writer's text */
				for (j = i; j < q; j++)
					kind[j] = K_QUOTE;
				i = q - 1;
				continue;
			}
			end = i;
			break;
		}
		if (separator(t, i) || outlook_block(t, i) ||
		    date_block(t, i) || field_block(t, i)) {
			if (fwd_subject) {
				/* Outlook forwards as it replies: only the
				 * subject said this is a forward */
				*fwd_r = i;
				return t->n;
			}
			end = i;
			break;
		}
	}
	/*
	 * the trailing block of quote and blank lines, at the end of the
	 * text or right above the cut: a '>' block with none of the
	 * writer's lines below it answers nothing (a bottom-posted reply
	 * that ends with the rest of the quote, above a mailing list's
	 * footer or an older message)
	 */
	cut = end;
	i = end;
	while (i > 0 && (blank(t, i - 1) || is_quote(t, i - 1) ||
			 kind[i - 1] == K_QUOTE || wrapped(t, i - 1))) {
		i--;
		if (is_quote(t, i) || kind[i] == K_QUOTE)
			cut = i;
	}
	/* a "... wrote:" line right above the trailing quote goes with it */
	for (i = cut; i > 0 && i < t->n && blank(t, i - 1); i--)
		;
	if (cut < t->n && i > 0 &&
	    (verb_colon(t, i - 1) ||
	     (cm_fit_on(CM_FIT_CRISP) && attribution(t, i - 1))))
		cut = i - 1;
	return cut;
}

/* mobile_sig - true if line i is a mobile client's signature */
static bool
mobile_sig(const struct text *t, size_t i)
{
	char buf[128];
	const char *p;
	size_t n, m, k, words = 1;

	p = strip(t, i, &n);
	if (n > 100)
		return false;
	for (k = 0; k < n; k++)
		if (p[k] == ' ')
			words++;
	if (words > 7)
		return false;
	m = lower(p, n, buf, sizeof(buf));
	return prefix_of(buf, m, mobile_sigs, CM_ARRAY_SIZE(mobile_sigs));
}

/* dash_name - true if line i is "-Name" (at most three words), the
 * signature of the GitHub reply parser's test mail (fitted on it: the
 * crisp set keeps the same line as text) */
static bool
dash_name(const struct text *t, size_t i)
{
	const char *p;
	size_t n, k, words = 1;

	p = strip(t, i, &n);
	if (n < 2 || n > 40 || p[0] != '-' || p[1] == '-' || p[1] == ' ')
		return false;
	for (k = 1; k < n; k++)
		if (p[k] == ' ')
			words++;
	return words <= 3;
}

/* sig_delim - true if line i is "-- ", "--" or "__" */
static bool
sig_delim(const struct text *t, size_t i)
{
	const char *p = t->s + t->l[i].off;
	size_t n = t->l[i].len;

	while (n > 0 && p[n - 1] == ' ')
		n--;
	return (n == 2 && (memcmp(p, "--", 2) == 0 ||
			   memcmp(p, "__", 2) == 0));
}

/* body_line - true if line i is a non-blank line of the body */
static bool
body_line(const struct text *t, const unsigned char *kind, size_t i)
{
	return kind[i] == K_BODY && !blank(t, i);
}

/* Complimentary closes that end a letter before the writer's name
 * (lower case, without the trailing comma), in the languages of the
 * quote headers above. "Thanks" is left out: it as often opens a last
 * sentence as it closes a letter. */
static const char *const closes[] = {
	"regards", "kind regards", "best regards", "warm regards",
	"warmest regards", "with regards", "many regards", "kindest regards",
	"yours sincerely", "sincerely", "sincerely yours",
	"yours faithfully", "yours truly", "best wishes", "all the best",
	"cheers", "best", "respectfully", "with best wishes",
	"mit freundlichen gr\xc3\xbc\xc3\x9f" "en",
	"mit freundlichen gr\xc3\xbcssen", "freundliche gr\xc3\xbc\xc3\x9f" "e",
	"viele gr\xc3\xbc\xc3\x9f" "e", "beste gr\xc3\xbc\xc3\x9f" "e",
	"liebe gr\xc3\xbc\xc3\x9f" "e", "cordialement", "bien cordialement",
	"bien \xc3\xa0 vous", "sinc\xc3\xa8res salutations", "salutations",
	"saludos", "un saludo", "atentamente", "saludos cordiales",
	"cordiali saluti", "distinti saluti", "saluti",
	"met vriendelijke groet", "met vriendelijke groeten",
	"vriendelijke groet", "groeten", "med v\xc3\xa4nliga h\xc3\xa4lsningar",
	"v\xc3\xa4nliga h\xc3\xa4lsningar", "med venlig hilsen",
	"med vennlig hilsen", "pozdrawiam", "z powa\xc5\xbc" "aniem",
	"atenciosamente", "cumprimentos", "s pozdravem",
	"yst\xc3\xa4v\xc3\xa4llisin terveisin",
};

/* close_line - true if line i is a complimentary close alone on its
 * line, with or without a comma ("Kind regards,", "Cordialement") */
static bool
close_line(const struct text *t, size_t i)
{
	char buf[64];
	const char *p;
	size_t n, m, k;

	p = strip(t, i, &n);
	while (n > 0 && (p[n - 1] == ',' || p[n - 1] == '.' ||
			 p[n - 1] == '!' || p[n - 1] == ' '))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return false;
	m = lower(p, n, buf, sizeof(buf));
	for (k = 0; k < CM_ARRAY_SIZE(closes); k++)
		if (m == strlen(closes[k]) && memcmp(buf, closes[k], m) == 0)
			return true;
	return false;
}

/* name_line - true if line i reads as a person's name: one to four
 * words, each starting with a capital (or a letter outside ASCII), of
 * letters, '-', '\'' and '.', at most NAME_MAX bytes */
static bool
name_line(const struct text *t, size_t i)
{
	const char *p;
	size_t n, k, words = 0;
	unsigned char c;

	p = strip(t, i, &n);
	if (n == 0 || n > NAME_MAX)
		return false;
	for (k = 0; k < n; k++) {
		c = (unsigned char)p[k];
		if (c == ' ')
			continue;
		if (k == 0 || p[k - 1] == ' ') {
			if (!((c >= 'A' && c <= 'Z') || c >= 0x80) ||
			    ++words > 4)
				return false;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c >= 0x80 || c == '-' || c == '\'' || c == '.'))
			return false;
	}
	return words > 0;
}

/*
 * sign_off - the first line of a sign-off that ends the writer's lines
 * before end, or end: a complimentary close alone on its line, then
 * (blank lines allowed) a name, then at most SIGNOFF_EXTRA more short
 * lines (a title, an organisation, a telephone number) and nothing
 * else. That is how people end a letter in every mail client; the
 * name must look like one, so a close followed by a sentence is left
 * alone.
 */
static size_t
sign_off(const struct text *t, const unsigned char *kind, size_t end)
{
	size_t i, n, first = end, lines = 0;

	for (i = end; i > 0; i--) {
		if (!body_line(t, kind, i - 1))
			continue;
		if (close_line(t, i - 1))
			return lines > 0 && name_line(t, first) ? i - 1 : end;
		(void)strip(t, i - 1, &n);
		if (lines == SIGNOFF_EXTRA + 1 || n > NAME_MAX)
			return end;
		first = i - 1;
		lines++;
	}
	return end;
}

/* find_sig - first line of the signature within the body lines before
 * end, or end */
static size_t
find_sig(const struct text *t, const unsigned char *kind, size_t end)
{
	size_t i, nb = 0, sig = end;

	for (i = end; i > 0; i--) {
		if (kind[i - 1] != K_BODY)
			continue;
		if (sig_delim(t, i - 1)) {
			if (nb <= SIG_MAX_LINES)
				sig = i - 1;
			break;
		}
		if (!blank(t, i - 1))
			nb++;
		if (nb > SIG_MAX_LINES)
			break;
	}
	for (i = end, nb = 0; i > 0 && nb < MOBILE_TAIL; i--) {
		if (!body_line(t, kind, i - 1))
			continue;
		nb++;
		if (mobile_sig(t, i - 1) && i - 1 < sig)
			sig = i - 1;
	}
	for (i = sig; i > 0 && !body_line(t, kind, i - 1); i--)
		;
	if (i > 0 && cm_fit_on(CM_FIT_GITHUB) && dash_name(t, i - 1))
		sig = i - 1;
	/* a close, a name and at most two more short lines */
	sig = sign_off(t, kind, sig);
	return sig;
}

/* join_kinds - the lines whose kind is in mask (bit 1 << kind) joined
 * with LF, blank lines at either end dropped; NULL if nothing but white
 * space (caller frees) */
static char *
join_kinds(const struct text *t, const unsigned char *kind, unsigned mask)
{
	struct cm_buf b;
	size_t i, pend = 0;
	bool any = false;
	char *r;

	cm_buf_init(&b, 0);
	for (i = 0; i < t->n; i++) {
		if (((1u << kind[i]) & mask) == 0)
			continue;
		if (blank(t, i)) {
			pend += any;
			continue;
		}
		for (; pend > 0; pend--)
			(void)cm_buf_putc(&b, '\n');
		if (any)
			(void)cm_buf_putc(&b, '\n');
		(void)cm_buf_append(&b, t->s + t->l[i].off, t->l[i].len);
		any = true;
	}
	r = any ? cm_buf_steal(&b) : NULL;
	cm_buf_free(&b);
	return r;
}

/* rule_line - true if line i is only dashes, underscores or '=' */
static bool
rule_line(const struct text *t, size_t i)
{
	const char *p;
	size_t n;

	p = strip(t, i, &n);
	return rule(p, n, '-', 3) || rule(p, n, '_', 3) || rule(p, n, '=', 3);
}

/* fwd_value - one header value p[0..n) as a string (bold markers and
 * blanks around it dropped, at most FWD_VALUE bytes, a cut UTF-8
 * sequence repaired); NULL if empty */
static char *
fwd_value(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '*' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '*'))
		n--;
	if (n > FWD_VALUE)
		n = FWD_VALUE;
	return n > 0 ? cm_utf8_clean(p, n) : NULL;
}

/* fwd_role - true if p[0..n) is a From, Date, Subject or To line */
static bool
fwd_role(const char *p, size_t n)
{
	return label_at(p, n, from_labels, CM_ARRAY_SIZE(from_labels)) ||
	       label_at(p, n, date_labels, CM_ARRAY_SIZE(date_labels)) ||
	       label_at(p, n, subject_labels,
			CM_ARRAY_SIZE(subject_labels)) ||
	       label_at(p, n, to_labels, CM_ARRAY_SIZE(to_labels));
}

/* fwd_field - store the value of header line p[0..n) in the slot of tr
 * its label names (the first line of each role wins); false if the
 * line is no header line */
static bool
fwd_field(const char *p, size_t n, struct cm_trim *tr)
{
	size_t k;
	char **slot = NULL;

	if ((k = field_label(p, n)) == 0)
		return false;
	if (label_at(p, n, from_labels, CM_ARRAY_SIZE(from_labels)))
		slot = &tr->fwd_from;
	else if (label_at(p, n, date_labels, CM_ARRAY_SIZE(date_labels)))
		slot = &tr->fwd_date;
	else if (label_at(p, n, subject_labels,
			  CM_ARRAY_SIZE(subject_labels)))
		slot = &tr->fwd_subject;
	else if (label_at(p, n, to_labels, CM_ARRAY_SIZE(to_labels)))
		slot = &tr->fwd_to;
	if (slot != NULL && *slot == NULL)
		*slot = fwd_value(p + k, n - k);
	return true;
}

/*
 * read_forward - read the forwarded message whose title is line fwd
 * into the fwd_ fields of tr: the header lines below the title (Gmail
 * "From:/Date:/Subject:/To:", Apple Mail "From:/Subject:/Date:/To:",
 * Thunderbird "Subject:/Date:/From:/To:", Outlook's translations, any
 * "Label: value" line), then the rest as its text; the writer's own
 * lines above the title (kind K_BODY) as the note.
 */
static void
read_forward(const struct text *t, const unsigned char *kind, size_t fwd,
	     struct cm_trim *tr)
{
	unsigned char *k2 = cm_xcalloc(t->n + 1, 1);
	const char *p;
	size_t j, n, fields = 0;

	tr->forwarded = true;
	tr->fwd_note = join_kinds(t, kind, 1u << K_BODY);
	/* a forward known by its subject may start with its From line
	 * (Outlook) rather than a title */
	p = strip(t, fwd, &n);
	j = fwd + 1;
	if (n <= HEADER_MAX && fwd_role(p, n))
		j = fwd;
	for (; j < t->n && fields < FIELD_LINES * 2; j++) {
		p = strip(t, j, &n);
		if (n == 0) {
			if (fields > 0)
				break;
			continue;
		}
		if (n > HEADER_MAX || !fwd_field(p, n, tr))
			break;
		fields++;
	}
	for (; j < t->n; j++)
		k2[j] = 1;
	tr->fwd_body = join_kinds(t, k2, 1u << 1);
	free(k2);
}

/*
 * forward_subject - true if subject says its message is a forward: the
 * prefix Outlook and most clients put on a forwarded message's subject
 * ("FW:", "Fwd:", German "WG:", French "TR:", Spanish "RV:", Italian
 * "I:", Dutch "Doorst:", Portuguese "ENC:", Swedish "VB:", Finnish
 * "VL:", Polish "PD:"; French Outlook writes "TR :"), first on the
 * line: "RE: FW:" is a reply to a forward. Danish and Norwegian "VS:"
 * is left out: it is the Finnish reply prefix.
 */
static bool
forward_subject(const char *subject)
{
	static const char *const pre[] = {
		"fw", "fwd", "wg", "tr", "rv", "i", "doorst", "enc", "vb",
		"vl", "pd",
	};
	char buf[16];
	size_t i, n, k;

	if (subject == NULL)
		return false;
	while (*subject == ' ' || *subject == '\t' || *subject == '[')
		subject++;
	n = lower(subject, strnlen(subject, sizeof(buf) - 1), buf,
		  sizeof(buf));
	for (i = 0; i < CM_ARRAY_SIZE(pre); i++) {
		k = strlen(pre[i]);
		if (n <= k || memcmp(buf, pre[i], k) != 0)
			continue;
		if (buf[k] == ' ')
			k++;
		if (k < n && buf[k] == ':')
			return true;
	}
	return false;
}

/* trim_text - cm_trim_text, a forward when fwd_subject */
static void
trim_text(const char *text, bool fwd_subject, struct cm_trim *t)
{
	struct text x;
	unsigned char *kind;
	size_t i, cut, sig, fwd;

	memset(t, 0, sizeof(*t));
	memset(&x, 0, sizeof(x));
	split(text != NULL ? text : "", &x);
	kind = cm_xcalloc(x.n + 1, 1);
	cut = find_cut(&x, kind, fwd_subject, &fwd);
	for (i = cut; i < x.n; i++)
		kind[i] = K_QUOTE;
	/* a forwarded message is kept whole; only the writer's lines above
	 * it may end with a signature */
	for (i = fwd; i < x.n; i++)
		kind[i] = K_FWD;
	if (fwd < cut)
		cut = fwd;
	/* a rule line that only separated what was cut goes with it */
	for (i = cut; i > 0 && (blank(&x, i - 1) || kind[i - 1] != K_BODY);
	     i--)
		;
	if (i > 0 && rule_line(&x, i - 1) && fwd == x.n)
		kind[i - 1] = K_QUOTE;
	sig = find_sig(&x, kind, cut);
	for (i = sig; i < cut; i++)
		if (kind[i] == K_BODY)
			kind[i] = K_SIG;
	t->body = join_kinds(&x, kind, BODY_KINDS);
	if (fwd < x.n)
		read_forward(&x, kind, fwd, t);
	if (t->body != NULL) {
		t->quoted = join_kinds(&x, kind, 1u << K_QUOTE);
		t->signature = join_kinds(&x, kind, 1u << K_SIG);
	} else {
		memset(kind, K_BODY, x.n);
		t->body = join_kinds(&x, kind, BODY_KINDS);
		if (t->body == NULL)
			t->body = cm_xstrdup("");
	}
	free(kind);
	free(x.l);
	free(x.s);
}

/* cm_trim_text - split text into body, quoted and signature */
int
cm_trim_text(const char *text, struct cm_trim *t)
{
	trim_text(text, false, t);
	return 0;
}

/* cm_trim_text_subject - the same, a forward by its subject too */
int
cm_trim_text_subject(const char *text, const char *subject,
		     struct cm_trim *t)
{
	trim_text(text, forward_subject(subject), t);
	return 0;
}

/* starts_forward - true if the first non-blank line of s is the title
 * of a forwarded message (Gmail puts a forward in the same gmail_quote
 * block as a quote) */
static bool
starts_forward(const char *s)
{
	struct text x;
	size_t i;
	bool r = false;
	char *head;

	if (s == NULL)
		return false;
	/* the first lines are enough: never split a long quote whole */
	head = cm_xstrndup(s, 4096);
	split(head, &x);
	for (i = 0; i < x.n && blank(&x, i); i++)
		;
	r = i < x.n && forward_mark(&x, i);
	free(x.l);
	free(x.s);
	free(head);
	return r;
}

/* trim_html - cm_trim_html, a forward when fwd_subject */
static void
trim_html(const char *html, size_t len, bool fwd_subject, struct cm_trim *t)
{
	char *reply = NULL, *quoted = NULL, *q;

	cm_html_split(html, len, &reply, &quoted);
	if (starts_forward(quoted) ||
	    (fwd_subject && quoted != NULL && *quoted != '\0')) {
		/* a forwarded message is kept: read the whole text */
		free(reply);
		free(quoted);
		reply = cm_html_to_text(html, len);
		trim_text(reply, fwd_subject, t);
		free(reply);
		return;
	}
	trim_text(reply, fwd_subject, t);
	if (quoted != NULL && *quoted != '\0') {
		if (t->quoted != NULL) {
			q = cm_xasprintf("%s\n\n%s", t->quoted, quoted);
			free(t->quoted);
			t->quoted = q;
		} else {
			t->quoted = quoted;
			quoted = NULL;
		}
	}
	if (t->body == NULL || *t->body == '\0') {
		/* never trim to nothing: keep the whole text */
		cm_trim_clear(t);
		free(reply);
		reply = cm_html_to_text(html, len);
		trim_text(reply, fwd_subject, t);
	}
	free(quoted);
	free(reply);
}

/* cm_trim_html - cut the HTML structure, then trim the text */
int
cm_trim_html(const char *html, size_t len, struct cm_trim *t)
{
	trim_html(html, len, false, t);
	return 0;
}

/* cm_trim_html_subject - the same, a forward by its subject too */
int
cm_trim_html_subject(const char *html, size_t len, const char *subject,
		     struct cm_trim *t)
{
	trim_html(html, len, forward_subject(subject), t);
	return 0;
}

/* cm_trim_clear - free the strings of t and zero it */
void
cm_trim_clear(struct cm_trim *t)
{
	if (t == NULL)
		return;
	free(t->body);
	free(t->quoted);
	free(t->signature);
	free(t->fwd_note);
	free(t->fwd_from);
	free(t->fwd_date);
	free(t->fwd_subject);
	free(t->fwd_to);
	free(t->fwd_body);
	memset(t, 0, sizeof(*t));
}
