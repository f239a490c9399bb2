#!/usr/bin/env python3
# mailcheck.py - print facts about one message file for the shell tests
#
# SYNOPSIS
#	mailcheck.py FILE headers        the header names, one a line
#	mailcheck.py FILE header NAME    the (decoded) value of NAME
#	mailcheck.py FILE parts          content types of the leaf parts
#	mailcheck.py FILE text           the decoded text/plain part
#	mailcheck.py FILE html           the decoded text/html part
#
# DESCRIPTION
#	Uses Python's own email package, so the messages casemail-send
#	builds with GMime are read back by an independent parser.
import email
import email.policy
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    what = sys.argv[2]
    if what == "headers":
        for k in msg.keys():
            print(k)
    elif what == "header":
        v = msg.get(sys.argv[3])
        print("" if v is None else str(v))
    elif what == "parts":
        for p in msg.walk():
            if not p.is_multipart():
                print(p.get_content_type())
    elif what in ("text", "html"):
        for p in msg.walk():
            if p.get_content_type() == "text/" + ("plain" if what == "text"
                                                  else "html"):
                sys.stdout.write(p.get_content())
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
