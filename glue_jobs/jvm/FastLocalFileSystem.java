package energylake;

import java.io.IOException;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * The local file system of a laptop run, without a chmod process per file.
 *
 * <p>Without Hadoop's native library (pyspark does not ship it), RawLocalFileSystem sets the
 * permission of every file and folder it creates by starting a `chmod` process: a process per
 * Parquet file and partition folder written, about half the time of writing a lake of small
 * daily partitions. Files and folders here keep the process umask instead. Local runs only;
 * Glue writes to S3.
 */
public class FastLocalFileSystem extends RawLocalFileSystem {
  @Override
  public void setPermission(Path p, FsPermission permission) throws IOException {
    // keep the umask's permissions
  }
}
