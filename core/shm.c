#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

void *shm_table_open(const char *name, size_t size, int (*valid)(const void *t), int (*init)(void *t),
		     const char *what, struct sg_err *e)
{
	struct stat st;
	void *t = MAP_FAILED;
	int fd = shm_open(name, O_RDWR | O_CREAT, 0600);

	if (fd < 0) {
		sg_err_set(e, ERR_IO, errno, "cannot open the %s %s", what, name);
		return NULL;
	}
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		sg_err_set(e, ERR_IO, 0, "the %s /dev/shm%s is not this user's alone; not using it", what, name);
		close(fd);
		return NULL;
	}
	if (flock(fd, LOCK_EX)) {   /* one process initialises */
		sg_err_set(e, ERR_IO, errno, "cannot lock the %s %s", what, name);
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
		sg_err_set(e, ERR_NOMEM, errno, "cannot map the %s %s", what, name);
		return NULL;
	}
	return t;
}
