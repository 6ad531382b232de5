/* The FastCGI floor for `make bench`: the smallest libfcgi application that answers every
 * request with a fixed JSON body the size of a status answer.  Whatever lighttpd + libfcgi
 * cost per request, sparkgate cannot go below this. */
#include <fcgiapp.h>
#include <stdio.h>

static const char body[] =
	"{\n  \"action\" : \"SubmissionStatusResponse\",\n  \"serverSparkVersion\" : \"3.5.9\",\n"
	"  \"submissionId\" : \"driver-20000101000000-0000\",\n  \"success\" : false\n}";

int main(void)
{
	FCGX_Request req;
	char head[128];
	/* (libfcgi's own FCGX_FPrintF knows no %zu) */
	int n = snprintf(head, sizeof(head), "Status: 200 OK\r\nContent-Type: application/json;charset=utf-8\r\n"
			 "Content-Length: %zu\r\n\r\n", sizeof(body) - 1);

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(head, n, req.out);
		FCGX_PutStr(body, (int)sizeof(body) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
