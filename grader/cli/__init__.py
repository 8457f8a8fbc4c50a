"""The command line: thin verbs that parse, call and print.

``main`` (the parser and ``main()``: one line per expected error, a traceback only with
``--debug``), ``commands`` (what each verb does, with keyword arguments) and ``doctor`` (what this
machine's sandbox protects). The top of the house: imports every package below, imported by none.
"""
