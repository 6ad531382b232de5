/* Prints a Java serialization stream as an indented tree, using sparkgate's own bounded
 * reader (core/wire/javaser_read.c).  A development aid for reading golden vectors and master
 * replies: build with `make build/jdump`, run `build/jdump FILE`. */
#include <stdio.h>
#include <stdlib.h>

#include "wire/javaser.h"

static void indent(int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", stdout);
}

static void print_value(const struct jvalue *v, int depth);

static void print_desc(const struct jdesc *d)
{
	printf("%s uid=%lld flags=0x%02x", d->name, (long long)d->uid, d->flags);
}

static void print_slots(const struct jdesc *d, const struct jslot *slots, int depth)
{
	for (uint16_t i = 0; i < d->nfields; i++) {
		const struct jfield *f = &d->fields[i];

		indent(depth);
		printf("%c %s", f->code, f->name);
		if (f->code == 'L' || f->code == '[') {
			putchar('\n');
			print_value(slots[i].obj, depth + 1);
		} else if (f->code == 'F' || f->code == 'D') {
			printf(" = %g\n", slots[i].d);
		} else {
			printf(" = %lld\n", (long long)slots[i].i);
		}
	}
}

/* A graph may be cyclic (a Throwable's cause is itself when it has none): deep enough
 * is where printing stops. */
#define JDUMP_MAX_DEPTH 24

static void print_value(const struct jvalue *v, int depth)
{
	indent(depth);
	if (!v) {
		puts("null");
		return;
	}
	if (depth > JDUMP_MAX_DEPTH) {
		puts("...");
		return;
	}
	switch (v->kind) {
	case JV_NULL:
		puts("null");
		break;
	case JV_STRING:
		printf("\"%s\"\n", v->u.str.s);
		break;
	case JV_CLASS:
	case JV_DESC:
		printf("%s ", v->kind == JV_CLASS ? "class" : "classdesc");
		print_desc(v->u.cls);
		putchar('\n');
		break;
	case JV_ENUM:
		printf("enum %s.%s\n", v->u.en.desc->name, jvalue_str(v->u.en.name));
		break;
	case JV_BLOCK:
		printf("block[%zu]", v->u.block.len);
		for (size_t i = 0; i < v->u.block.len && i < 32; i++)
			printf(" %02x", v->u.block.p[i]);
		putchar('\n');
		break;
	case JV_ARRAY:
		printf("array %s len=%zu\n", v->u.arr.desc->name, v->u.arr.len);
		for (size_t i = 0; i < v->u.arr.len; i++) {
			if (v->u.arr.desc->name[1] == 'L' || v->u.arr.desc->name[1] == '[')
				print_value(v->u.arr.items[i].obj, depth + 1);
			else {
				indent(depth + 1);
				printf("%lld\n", (long long)v->u.arr.items[i].i);
			}
		}
		break;
	case JV_OBJECT:
		printf("object ");
		print_desc(v->u.obj.desc);
		putchar('\n');
		if (depth > 40)
			return;
		for (size_t c = 0; c < v->u.obj.ncd; c++) {
			const struct jclassdata *cd = &v->u.obj.cd[c];

			if (v->u.obj.ncd > 1) {
				indent(depth + 1);
				printf("[%s]\n", cd->desc->name);
			}
			print_slots(cd->desc, cd->slots, depth + 1);
			for (size_t a = 0; a < cd->nannot; a++) {
				indent(depth + 1);
				puts("annotation:");
				print_value(cd->annot[a], depth + 2);
			}
		}
		break;
	}
}

int main(int argc, char **argv)
{
	static unsigned char data[1 << 24];
	struct jstream s;
	struct sg_err e = { 0 };

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		size_t n = fread(data, 1, sizeof data, f);
		fclose(f);
		if (jstream_parse(&s, data, n, &e) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], e.msg);
			return 1;
		}
		printf("== %s\n", argv[i]);
		for (size_t k = 0; k < s.ncontents; k++)
			print_value(s.contents[k], 0);
		jstream_release(&s);
	}
	return 0;
}
