# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# cmake -P prune-man.cmake MAN3-DIR
#
# Keeps the section 3 pages a user looks up: one per group (libsvmbind_*),
# svmbind.h, the structs, and the link pages of every public name (svm_*,
# svmbind_*, SVMBIND_*, VFIO_* and vfio_device_svm of the seed UAPI). Drops the
# rest: Doxygen also makes link pages for struct members ("sz", "pid",
# "flags", ...) and pages for the guides, which must not land in man3.
set(dir "${CMAKE_ARGV3}")
if(NOT IS_DIRECTORY "${dir}")
  message(FATAL_ERROR "prune-man.cmake: no directory ${dir}: Doxygen made no man pages")
endif()
file(GLOB pages RELATIVE "${dir}" "${dir}/*")
set(kept 0)
foreach(p IN LISTS pages)
  if(p MATCHES "^(svm_|svmbind_|SVMBIND_|VFIO_|vfio_device_svm|libsvmbind_)[A-Za-z0-9_]*\\.3$"
     OR p STREQUAL "svmbind.h.3")
    math(EXPR kept "${kept} + 1")
  else()
    file(REMOVE "${dir}/${p}")
  endif()
endforeach()
if(NOT EXISTS "${dir}/svm_bind_pid.3" OR NOT EXISTS "${dir}/libsvmbind_svm.3")
  message(FATAL_ERROR "prune-man.cmake: expected pages are missing in ${dir}")
endif()
