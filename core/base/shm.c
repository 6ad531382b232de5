#include "base/shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t shm_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The layout version is in the name: two sparkgate builds of different layouts on one
 * host (an upgrade in progress) keep separate tables instead of remaking each other's. */
void shm_table_name(const char *kind, unsigned layout, const char *key, char *name, size_t size)
{
	snprintf(name, size, "/sparkgate-%s-v%u-%u-%016llx", kind, layout, (unsigned)geteuid(),
		 (unsigned long long)shm_hash(key));
}

/* Opens name for this user alone: made new (O_EXCL) with mode 0600, or, when it exists, taken
 * only if it is a plain object (no symbolic link: O_NOFOLLOW) this user owns and no one else
 * may read or write.  Anything else is refused: another local user made it first (a squat,
 * which would switch the table off, or a table whose contents they could forge). */
static int open_own(const char *name, const char *what, struct stat *st, struct sg_err *e)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);

	if (fd < 0 && errno == EEXIST)
		fd = shm_open(name, O_RDWR | O_NOFOLLOW, 0600);
	if (fd < 0) {
		sg_err_set(e, ERR_IO, 0, "cannot open the %s /dev/shm%s: %s%s", what, name, strerror(errno),
			   errno == EACCES || errno == ELOOP ? " (another local user made it: remove it, or find who)" : "");
		return -1;
	}
	if (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_uid != geteuid() || (st->st_mode & 077)) {
		sg_err_set(e, ERR_IO, 0, "the %s /dev/shm%s is not this user's alone (owner uid %u, mode %03o): another "
			   "local user made it first; running without it until it is removed", what, name,
			   (unsigned)st->st_uid, (unsigned)(st->st_mode & 0777));
		close(fd);
		return -1;
	}
	return fd;
}

void *shm_table_open(const char *name, size_t size, int (*valid)(const void *t), int (*init)(void *t),
		     const char *what, struct sg_err *e)
{
	struct stat st;
	void *t = MAP_FAILED;
	int fd = open_own(name, what, &st, e);

	if (fd < 0)
		return NULL;
	if (flock(fd, LOCK_EX)) {   /* one process initialises */
		sg_err_set(e, ERR_IO, 0, "cannot lock the %s %s", what, name);
		close(fd);
		return NULL;
	}
	if ((size_t)st.st_size != size && ftruncate(fd, (off_t)size) == 0)
		st.st_size = (off_t)size;   /* new, or another version's: remade */
	if ((size_t)st.st_size == size)
		t = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t != MAP_FAILED && !valid(t) && init(t)) {
		munmap(t, size);
		t = MAP_FAILED;
	}
	flock(fd, LOCK_UN);
	close(fd);
	if (t == MAP_FAILED) {
		sg_err_set(e, ERR_NOMEM, 0, "cannot map the %s %s", what, name);
		return NULL;
	}
	return t;
}
