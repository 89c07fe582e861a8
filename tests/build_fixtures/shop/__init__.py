"""A fixture project for ``dbos-compile build``: a package with a subpackage, relative imports,
a data file, module-level, class-based and async workflows. Tests run it from SRC (decorated)
and from the build (generated), and crash one to recover it with the other."""
