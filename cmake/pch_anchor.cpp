// Anchors the shared precompiled header (see mg_use_pch in CMakeLists.txt).
