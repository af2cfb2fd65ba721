using System;
using System.IO;

namespace Da3js.Importer
{
    /// <summary>Options of <see cref="Da3SceneReader"/>.</summary>
    public sealed class Da3ReadOptions
    {
        /// <summary>Size limits for every reader.</summary>
        public ImportLimits Limits = ImportLimits.Default;
        /// <summary>npz: build the point cloud from the depth maps (default true).</summary>
        public bool NpzPointCloud = true;
        /// <summary>npz: leave pixels below this confidence out of the point cloud (default 0).</summary>
        public float NpzMinConfidence;
        /// <summary>GLB: processed-image size for the cameras' intrinsics (0: look for <c>depth_vis/0000.jpg</c> beside the file).</summary>
        public int ImageWidth;
        /// <summary>GLB: processed-image height (see <see cref="ImageWidth"/>).</summary>
        public int ImageHeight;
    }

    /// <summary>
    /// The front door of the core: reads any file da3js exports, chosen by its first bytes (GLB,
    /// PLY, ZIP/npz) or, for a folder, as a COLMAP model or a whole export folder. Thread-safe (no
    /// shared state): the runtime API calls it on a worker thread.
    /// </summary>
    public static class Da3SceneReader
    {
        /// <summary>Reads a file or folder.</summary>
        public static Da3SceneData Read(string path, Da3ReadOptions options = null)
        {
            options = options ?? new Da3ReadOptions();
            if (Directory.Exists(path))
            {
                if (File.Exists(Path.Combine(path, "cameras.bin")) || File.Exists(Path.Combine(path, "cameras.txt"))) return ColmapReader.Read(path, options.Limits);
                return Da3ExportDirectory.Read(path, options);
            }
            using (var s = Da3Files.OpenRead(path))
            {
                var o = options;
                if ((o.ImageWidth <= 0 || o.ImageHeight <= 0) && path.EndsWith(".glb", StringComparison.OrdinalIgnoreCase))
                {
                    int w, h;
                    if (JpegSize.TryReadDepthVis(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", "depth_vis", "0000.jpg"), out w, out h))
                        o = new Da3ReadOptions { Limits = options.Limits, NpzPointCloud = options.NpzPointCloud, NpzMinConfidence = options.NpzMinConfidence, ImageWidth = w, ImageHeight = h };
                }
                return Read(s, Path.GetFileName(path), o);
            }
        }

        /// <summary>Reads bytes held in memory (wrapped, not copied).</summary>
        public static Da3SceneData Read(byte[] bytes, string name, Da3ReadOptions options = null)
        {
            if (bytes == null) throw new ArgumentNullException("bytes");
            using (var s = new MemoryStream(bytes, false)) return Read(s, name, options);
        }

        /// <summary>Reads a seekable stream; the format comes from its first four bytes.</summary>
        public static Da3SceneData Read(Stream stream, string name, Da3ReadOptions options = null)
        {
            options = options ?? new Da3ReadOptions();
            var start = stream.Position;
            var head = new byte[4];
            var got = 0;
            while (got < 4)
            {
                var n = stream.Read(head, got, 4 - got);
                if (n <= 0) break;
                got += n;
            }
            stream.Position = start;
            if (got == 4 && head[0] == (byte)'g' && head[1] == (byte)'l' && head[2] == (byte)'T' && head[3] == (byte)'F')
                return GlbReader.Read(stream, name, new GlbReadOptions { Limits = options.Limits, ImageWidth = options.ImageWidth, ImageHeight = options.ImageHeight });
            if (got >= 3 && head[0] == (byte)'p' && head[1] == (byte)'l' && head[2] == (byte)'y')
                return PlyReader.Read(stream, name, options.Limits);
            if (got >= 2 && head[0] == (byte)'P' && head[1] == (byte)'K')
                return NpzReader.Read(stream, name, new NpzReadOptions { Limits = options.Limits, PointCloud = options.NpzPointCloud, MinConfidence = options.NpzMinConfidence });
            throw new Da3ImportException(got < 4 ? Da3ErrorCode.Truncated : Da3ErrorCode.BadMagic, name,
                "not a da3js export: expected a GLB ('glTF'), a PLY ('ply') or an npz ('PK'), got " + got + " bytes " + BitConverter.ToString(head, 0, got));
        }
    }

    /// <summary>
    /// Reads a da3js export folder (what <c>da3 auto … --export-dir</c> and the job service write):
    /// cameras and depth from <c>exports/npz/results.npz</c> or <c>exports/mini_npz/results.npz</c>;
    /// points from <c>scene.ply</c>, else <c>scene.glb</c>, else the npz's depth, else COLMAP
    /// <c>sparse/</c>; cameras from COLMAP or the GLB when there is no npz; Gaussians from
    /// <c>gs_ply/0000_sh3.ply</c> or <c>gs_ply/0000.ply</c>.
    /// </summary>
    public static class Da3ExportDirectory
    {
        /// <summary>Reads the folder; throws <see cref="Da3ErrorCode.Missing"/> when it holds none of these files.</summary>
        public static Da3SceneData Read(string dir, Da3ReadOptions options = null)
        {
            options = options ?? new Da3ReadOptions();
            Func<string, string> p = rel => Path.Combine(dir, rel.Replace('/', Path.DirectorySeparatorChar));
            var scene = new Da3SceneData { Format = Da3SourceFormat.ExportDirectory };
            Da3SceneData npz = null, glb = null, colmap = null;
            var npzPath = File.Exists(p("exports/npz/results.npz")) ? p("exports/npz/results.npz") : File.Exists(p("exports/mini_npz/results.npz")) ? p("exports/mini_npz/results.npz") : null;
            if (npzPath != null)
            {
                npz = NpzReader.Read(npzPath, new NpzReadOptions { Limits = options.Limits, PointCloud = options.NpzPointCloud, MinConfidence = options.NpzMinConfidence });
                scene.Views = npz.Views;
                scene.Depths = npz.Depths;
                scene.Warnings.AddRange(npz.Warnings);
            }
            if (File.Exists(p("scene.ply")))
            {
                var ply = PlyReader.Read(p("scene.ply"), options.Limits);
                scene.Points = ply.Points;
                scene.Warnings.AddRange(ply.Warnings);
            }
            if (File.Exists(p("scene.glb")))
            {
                var size = scene.Depths.Count > 0 ? new[] { scene.Depths[0].Width, scene.Depths[0].Height } : null;
                int w = options.ImageWidth, h = options.ImageHeight;
                if (size != null) { w = size[0]; h = size[1]; }
                else if (w <= 0 || h <= 0) JpegSize.TryReadDepthVis(p("depth_vis/0000.jpg"), out w, out h);
                glb = GlbReader.Read(p("scene.glb"), new GlbReadOptions { Limits = options.Limits, ImageWidth = w, ImageHeight = h });
                scene.GltfAlignment = glb.GltfAlignment;
                if (scene.Points == null) scene.Points = glb.Points;
                scene.Warnings.AddRange(glb.Warnings);
            }
            if (Directory.Exists(p("sparse")) && (File.Exists(p("sparse/cameras.bin")) || File.Exists(p("sparse/cameras.txt"))))
            {
                colmap = ColmapReader.Read(p("sparse"), options.Limits);
                scene.Warnings.AddRange(colmap.Warnings);
            }
            if (scene.Views.Count == 0) scene.Views = colmap != null ? colmap.Views : glb != null ? glb.Views : scene.Views;
            if (scene.Points == null && npz != null) scene.Points = npz.Points;
            if (scene.Points == null && colmap != null) scene.Points = colmap.Points;
            var gsPath = File.Exists(p("gs_ply/0000_sh3.ply")) ? p("gs_ply/0000_sh3.ply") : File.Exists(p("gs_ply/0000.ply")) ? p("gs_ply/0000.ply") : null;
            if (gsPath != null) scene.Gaussians = PlyReader.Read(gsPath, options.Limits).Gaussians;
            if (npz == null && glb == null && colmap == null && scene.Points == null && scene.Gaussians == null)
                throw new Da3ImportException(Da3ErrorCode.Missing, dir, "not a da3js export folder: no scene.glb, scene.ply, exports/*/results.npz, sparse/ or gs_ply/");
            return scene;
        }
    }

    /// <summary>Reads the pixel size of a baseline or progressive JPEG from its SOF marker (no decoding).</summary>
    public static class JpegSize
    {
        /// <summary>
        /// The processed-image size from da3js' <c>depth_vis/NNNN.jpg</c>, which holds
        /// <c>[processed RGB | depth colour map]</c> side by side: (JPEG width / 2, JPEG height).
        /// </summary>
        public static bool TryReadDepthVis(string path, out int width, out int height)
        {
            if (!TryRead(path, out width, out height) || width % 2 != 0) { width = height = 0; return false; }
            width /= 2;
            return true;
        }

        /// <summary>True with the size when <paramref name="path"/> is a readable JPEG.</summary>
        public static bool TryRead(string path, out int width, out int height)
        {
            width = height = 0;
            if (!File.Exists(path)) return false;
            try
            {
                using (var s = File.OpenRead(path))
                {
                    var c = new StreamCursor(s, path, 4096);
                    if (c.U8("SOI") != 0xFF || c.U8("SOI") != 0xD8) return false;
                    for (int guard = 0; guard < 1000; guard++)
                    {
                        var b = c.U8("marker");
                        if (b != 0xFF) return false;
                        var m = c.U8("marker");
                        while (m == 0xFF) m = c.U8("marker");
                        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) continue;
                        var len = (c.U8("length") << 8) | c.U8("length");
                        if (len < 2) return false;
                        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
                        {
                            c.U8("precision");
                            height = (c.U8("height") << 8) | c.U8("height");
                            width = (c.U8("width") << 8) | c.U8("width");
                            return width > 0 && height > 0;
                        }
                        c.Skip(len - 2, "JPEG segment");
                    }
                }
            }
            catch (Da3ImportException) { }
            catch (IOException) { }
            return false;
        }
    }
}
