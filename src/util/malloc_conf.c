/* jemalloc options for every policyd executable (DESIGN.md §3).
 *
 * narenas:2 keeps automatic arenas few, so nearly all of the 4,095 arena
 * indices are left for sessions. background_thread returns freed pages to
 * the system without anyone asking, so idle sessions do not sit on dirty
 * memory. jemalloc reads this symbol from the executable at start-up. */
const char *malloc_conf = "narenas:2,background_thread:true";
