# Finds pstable's dependencies; shared by the build tree and the installed package config.
include(CMakeFindDependencyMacro)
find_dependency(Eigen3 3.3 NO_MODULE)
find_dependency(xsimd 8)
find_dependency(ZLIB)  # the IDX reader (pstable/io/idx.hpp) reads gzip files

# Debian's xsimd 8.1 package links its target to "xtl", a package Debian does not ship and xsimd
# does not need for anything pstable uses. Stand in an empty target so linking succeeds.
if(NOT TARGET xtl)
  add_library(xtl INTERFACE IMPORTED GLOBAL)
endif()
